// HTML sanitiser for message bodies. DOMPurify does the parsing and the allowlist;
// the hooks below add what a mail client needs on top of "no script": no remote
// fetches unless the user allows them (tracking pixels), `cid:` images resolved to
// local URLs, links that open outside the viewer, and inert CSS.
//
// docs/message-content.md: `body.html` is "returned as a JSON string and not as
// rendered content" — rendering it safely is the client's job, so every body the app
// shows goes through here (and then into a sandboxed iframe without allow-scripts).
import createDOMPurify from 'dompurify';
import type { Config, DOMPurify, WindowLike } from 'dompurify';
import { sanitizeCss } from './css.js';
import type { CssUrlPolicy } from './css.js';
import { ContentError } from './errors.js';

/** Options of {@link sanitizeHtml}. */
export interface SanitizeOptions {
  /** Keep http(s) images, srcsets, backgrounds and CSS urls (default false: blocked and counted). */
  allowRemoteImages?: boolean;
  /**
   * Resolves a `cid:` reference (the Content-ID without `cid:` and angle brackets,
   * percent-decoded) to a local URL, e.g. an object URL of the downloaded attachment.
   * Only `blob:`, `data:image/…` (raster) and http(s) results are used; anything else,
   * or no resolver, drops the reference.
   */
  resolveCid?: (contentId: string) => string | null | undefined;
  /** `src` given to blocked remote images (e.g. a transparent data: GIF); default none. */
  blockedImagePlaceholder?: string;
  /**
   * The DOM to parse with. Browsers: omitted (the global `window`). Node: a jsdom
   * window, e.g. `new JSDOM('').window`; the library does not depend on jsdom itself.
   */
  window?: WindowLike;
}

/** Result of {@link sanitizeHtml}. */
export interface SanitizeResult {
  /** Inert HTML: head <style> rules (sanitised) followed by the body's content. */
  html: string;
  /** Remote resources removed because `allowRemoteImages` was false (images, srcsets, backgrounds, CSS urls). */
  blockedRemoteImages: number;
}

/** Attribute set on elements whose remote image was removed, so the app can style a placeholder. */
export const BLOCKED_ATTRIBUTE = 'data-sendmux-blocked';

// Elements that submit, navigate, embed other documents, fetch, or change how the
// rest of the document is resolved. svg/math are excluded by the html-only profile.
const FORBID_TAGS = [
  'script', 'noscript', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'portal',
  'form', 'input', 'button', 'select', 'option', 'optgroup', 'textarea', 'datalist', 'output',
  'meta', 'base', 'link', 'video', 'audio', 'source', 'track', 'template', 'slot',
];
// `ping` beacons on click, `srcdoc` nests a document, the form ones submit.
const FORBID_ATTR = ['ping', 'srcdoc', 'action', 'formaction', 'autofocus', 'target', 'rel'];
// Attributes whose value is fetched or navigated to; checked again after DOMPurify.
const URL_ATTRIBUTES = ['href', 'src', 'srcset', 'background', 'action', 'formaction', 'poster', 'xlink:href', 'data', 'codebase', 'lowsrc', 'dynsrc', 'longdesc', 'usemap', 'cite'];
const LINK_SCHEMES = new Set(['http', 'https', 'mailto']);
// Raster images only: data:image/svg+xml can carry script when opened directly.
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp|avif|x-icon|vnd\.microsoft\.icon)[;,]/i;

const CONFIG: Config = {
  USE_PROFILES: { html: true },
  WHOLE_DOCUMENT: true,
  RETURN_DOM: true,
  FORBID_TAGS,
  FORBID_ATTR,
  ALLOW_DATA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
};

type UrlKind = 'remote' | 'cid' | 'data-image' | 'blob' | 'mailto' | 'other';

/**
 * The scheme of `value` as a browser would read it: WHATWG URL strips leading and
 * trailing C0 controls/spaces and removes tabs and newlines anywhere, so
 * `" jav&#9;ascript:"` is a javascript: URL.
 */
export function urlScheme(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const compact = value.replace(/[\u0000-\u0020\u007f]/g, '').toLowerCase();
  const m = /^([a-z][a-z0-9+.-]*):/.exec(compact);
  return m?.[1];
}

function classify(value: string): UrlKind {
  const scheme = urlScheme(value);
  if (scheme === 'http' || scheme === 'https') return 'remote';
  // Protocol-relative (`//host`, and `\\host` which browsers read the same way) fetches remotely.
  if (scheme === undefined && /^\s*[/\\]{2}/.test(value)) return 'remote';
  if (scheme === 'cid') return 'cid';
  if (scheme === 'blob') return 'blob';
  if (scheme === 'mailto') return 'mailto';
  if (scheme === 'data' && SAFE_DATA_IMAGE.test(value.trim())) return 'data-image';
  return 'other';
}

function contentIdOf(cidUrl: string): string {
  // RFC 2392: cid URLs are the Content-ID, %-encoded, without angle brackets.
  const raw = cidUrl.trim().slice(4);
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Malformed %-escapes: use the reference as written.
  }
  return decoded.replace(/^<|>$/g, '');
}

const purifiers = new WeakMap<object, DOMPurify>();

function purifierFor(win: WindowLike | undefined): DOMPurify {
  const target = win ?? (globalThis as { window?: WindowLike }).window;
  if (!target) {
    throw new ContentError(
      'no_dom',
      'sanitizeHtml needs a DOM: in Node pass { window: new JSDOM("").window } (jsdom is not bundled).',
    );
  }
  let purify = purifiers.get(target);
  if (!purify) {
    purify = createDOMPurify(target);
    purifiers.set(target, purify);
  }
  return purify;
}

/**
 * Sanitises an email's HTML body for display in a sandboxed iframe. The result has no
 * script, event handler, form, frame, embedded object, meta refresh, base or external
 * stylesheet; links are http(s)/mailto only and open in a new browsing context
 * without opener or referrer; CSS cannot run code or import; remote images (img src,
 * srcset, background attributes, CSS url()) are removed and counted unless
 * `allowRemoteImages`; `cid:` images go through `resolveCid`.
 */
export function sanitizeHtml(html: string, options: SanitizeOptions = {}): SanitizeResult {
  const purify = purifierFor(options.window);
  const allowRemote = options.allowRemoteImages === true;
  let blocked = 0;

  /** Decides the fate of one image-like URL: the URL to keep, or undefined. */
  const imageUrl = (value: string): string | undefined => {
    switch (classify(value)) {
      case 'remote':
        if (allowRemote) return value.trim();
        blocked += 1;
        return undefined;
      case 'cid': {
        const resolved = options.resolveCid?.(contentIdOf(value));
        if (!resolved) return undefined;
        const kind = classify(resolved);
        return kind === 'blob' || kind === 'data-image' || kind === 'remote' ? resolved : undefined;
      }
      case 'data-image':
      case 'blob':
        return value.trim();
      default:
        return undefined;
    }
  };
  const cssPolicy: CssUrlPolicy = { rewriteUrl: imageUrl };

  const markBlocked = (el: Element, why: string): void => {
    el.setAttribute(BLOCKED_ATTRIBUTE, why);
  };

  try {
    purify.addHook('uponSanitizeAttribute', (_node, data) => {
      if (data.attrName === 'style') data.attrValue = sanitizeCss(data.attrValue, cssPolicy);
    });
    purify.addHook('afterSanitizeElements', (node) => {
      if (node.nodeName.toLowerCase() === 'style') node.textContent = sanitizeCss(node.textContent ?? '', cssPolicy);
    });
    purify.addHook('afterSanitizeAttributes', (el) => {
      const tag = el.nodeName.toLowerCase();
      // Image sources: resolved after DOMPurify's own URI check, which would reject blob:.
      if (el.hasAttribute('src')) {
        const before = blocked;
        const kept = tag === 'img' ? imageUrl(el.getAttribute('src') ?? '') : undefined;
        if (kept === undefined) {
          el.removeAttribute('src');
          if (blocked > before) {
            markBlocked(el, 'remote-image');
            if (options.blockedImagePlaceholder) el.setAttribute('src', options.blockedImagePlaceholder);
          }
        } else {
          el.setAttribute('src', kept);
        }
      }
      if (el.hasAttribute('srcset')) {
        const before = blocked;
        const candidates = (el.getAttribute('srcset') ?? '').split(',').map((c) => c.trim()).filter(Boolean);
        const kept = candidates.map((c) => {
          const [url = '', ...descriptor] = c.split(/\s+/);
          const ok = imageUrl(url);
          return ok === undefined ? undefined : [ok, ...descriptor].join(' ');
        });
        if (tag === 'img' && kept.length > 0 && kept.every((k) => k !== undefined)) el.setAttribute('srcset', kept.join(', '));
        else {
          el.removeAttribute('srcset');
          if (blocked > before) markBlocked(el, 'remote-image');
        }
      }
      if (el.hasAttribute('background')) {
        const before = blocked;
        const kept = imageUrl(el.getAttribute('background') ?? '');
        if (kept === undefined) {
          el.removeAttribute('background');
          if (blocked > before) markBlocked(el, 'remote-image');
        } else el.setAttribute('background', kept);
      }
      if (el.hasAttribute('href')) {
        const href = el.getAttribute('href') ?? '';
        const scheme = urlScheme(href);
        if ((tag === 'a' || tag === 'area') && scheme !== undefined && LINK_SCHEMES.has(scheme)) {
          el.setAttribute('href', href.trim());
          el.setAttribute('target', '_blank');
          el.setAttribute('rel', 'noopener noreferrer');
        } else {
          el.removeAttribute('href');
        }
      }
      // Defence in depth: any other URL-bearing attribute DOMPurify let through.
      for (const name of URL_ATTRIBUTES) {
        if (name === 'src' || name === 'srcset' || name === 'background' || name === 'href' || name === 'cite') continue;
        if (el.hasAttribute(name)) el.removeAttribute(name);
      }
      const cite = el.getAttribute('cite');
      if (cite !== null && classify(cite) !== 'remote') el.removeAttribute('cite');
    });

    const root = purify.sanitize(html, CONFIG) as unknown as Element | null;
    if (!root) return { html: '', blockedRemoteImages: blocked };
    // Keep the <style> rules of <head> (email templates put their layout there) and
    // the body's content; the document wrapper itself is the iframe's business.
    const head = root.querySelector('head');
    const styles = head ? Array.from(head.querySelectorAll('style'), (s) => s.outerHTML).join('') : '';
    const body = root.querySelector('body');
    return { html: styles + (body ? body.innerHTML : ''), blockedRemoteImages: blocked };
  } finally {
    purify.removeAllHooks();
  }
}

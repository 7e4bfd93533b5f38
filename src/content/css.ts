// CSS neutraliser used by the HTML sanitiser for `style` attributes and <style>
// elements. DOMPurify keeps CSS text as-is, so everything that can run code or fetch
// a resource from CSS is handled here.
//
// Strategy: first normalise (drop comments, decode escapes, drop NULs) so what we
// scan is what a browser's tokenizer would see (CSS Syntax 3 §4.3.4: `u\72 l(` is a
// url token), then rewrite every construct that fetches or executes. The output
// contains no escapes of its own except the `\3c ` we emit for `<`, so a browser
// re-reading it sees exactly the identifiers we scanned.

/** How URLs met inside CSS are treated; shared with the HTML sanitiser. */
export interface CssUrlPolicy {
  /** Rewrites one URL: the safe URL to keep, or undefined to drop it. */
  rewriteUrl(url: string): string | undefined;
}

const COMMENT = /\/\*[\s\S]*?(?:\*\/|$)/g;
// CSS Syntax 3 §4.3.7 (consume an escaped code point): 1–6 hex digits plus one
// optional whitespace, or any other single code point; backslash-newline is a
// line continuation inside strings.
const ESCAPE = /\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\r\n\f])?|(\r\n|[\r\n\f])|([\s\S]))/g;

function decodeEscapes(css: string): string {
  return css.replace(ESCAPE, (_m, hex: string | undefined, newline: string | undefined, ch: string | undefined) => {
    if (hex !== undefined) {
      const cp = Number.parseInt(hex, 16);
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    if (newline !== undefined) return '';
    return ch ?? '';
  });
}

/** Quotes a URL for `url("…")` so it cannot end the token, the declaration or a <style> element. */
function quoteUrl(url: string): string {
  return `url("${url.replace(/[\\"\n\r\f<>]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}")`;
}

// A url token, quoted or not; a bare `url(` that does not form one is caught by the
// last alternative and disabled.
const URL_TOKEN = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)|url\(/gi;
// CSS Values 4 `src("…")` is url() with a string; image-set() and CSS Images 4
// image() take bare strings as URLs; IE's expression() and behavior, Gecko's
// -moz-binding run code. Renaming the function or property makes the declaration
// invalid, so the browser drops it.
const DANGEROUS_FUNCTIONS = /(?:-webkit-)?image-set\s*\(|(?<![\w-])image\s*\(|\bsrc\s*\(|expression\s*\(/gi;
const DANGEROUS_PROPERTIES = /(-moz-binding|behaviou?r)\s*:/gi;
const SCRIPT_SCHEMES = /(?:java|vb|live)script\s*:/gi;
// @import fetches a stylesheet (url() or a bare string); drop the whole rule.
const IMPORT_RULE = /@import\b[^;{}]*(?:;|$)/gi;

/**
 * Returns `css` with every code-running construct disabled and every URL passed
 * through `policy` (dropped URLs become `none`, which invalidates the declaration
 * or leaves a harmless value).
 */
export function sanitizeCss(css: string, policy: CssUrlPolicy): string {
  let out = decodeEscapes(css.replace(COMMENT, '')).replace(/\0/g, '');
  out = out.replace(IMPORT_RULE, '');
  out = out.replace(URL_TOKEN, (match, dq: string | undefined, sq: string | undefined, bare: string | undefined) => {
    const raw = dq ?? sq ?? bare;
    if (raw === undefined) return 'x-blocked(';
    const kept = policy.rewriteUrl(raw.trim());
    return kept === undefined ? 'none' : quoteUrl(kept);
  });
  out = out.replace(DANGEROUS_FUNCTIONS, 'x-blocked(');
  out = out.replace(DANGEROUS_PROPERTIES, 'x-blocked:');
  out = out.replace(SCRIPT_SCHEMES, 'blocked:');
  // A literal `<` could close a <style> element when the HTML is re-parsed (mXSS);
  // CSS reads the escape back as the same character.
  return out.replace(/</g, '\\3c ');
}

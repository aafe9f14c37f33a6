// locate reads JSON text and says on which line each field starts, naming
// fields the way the API's error details do: message.sections[0].items[1].title.
// It returns {lines: Map(path → line), error: {message, line} | null}.
export function locate(text) {
  const lines = new Map();
  const n = text.length;
  let i = 0;
  let line = 1;

  const fail = (message) => {
    const e = new Error(message);
    e.line = line;
    throw e;
  };
  const space = () => {
    while (i < n) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
      i++;
    }
  };
  const string = () => {
    const start = i++;
    while (i < n && text[i] !== '"') {
      if (text[i] === '\n') fail('a line break inside a string');
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= n) fail('a string is not closed');
    i++;
    try {
      return JSON.parse(text.slice(start, i));
    } catch {
      return fail('a string has a bad escape');
    }
  };
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const value = (path) => {
    space();
    if (!lines.has(path)) lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a field name in double quotes');
        const at = line;
        const key = string();
        const p = path ? `${path}.${key}` : key;
        lines.set(p, at);
        space();
        if (text[i] !== ':') fail(`expected ':' after "${key}"`);
        i++;
        value(p);
        space();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') { i++; return; }
      for (let k = 0; ; k++) {
        value(`${path}[${k}]`);
        space();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') { string(); return; }
    literal.lastIndex = i;
    const m = literal.exec(text);
    if (!m) fail(i >= n ? 'the JSON ends too early' : `unexpected ${JSON.stringify(text[i])}`);
    i += m[0].length;
  };

  try {
    value('');
    space();
    if (i < n) fail('more text after the JSON value');
    return { lines, error: null };
  } catch (e) {
    return { lines, error: { message: e.message, line: e.line } };
  }
}

// lineOf returns the line of field, or of its nearest enclosing field
// present in the text (a missing field points at its parent), and whether
// the field itself was found.
export function lineOf(lines, field) {
  let p = field;
  for (;;) {
    if (lines.has(p)) return { line: lines.get(p), exact: p === field };
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return { line: lines.get('') || 1, exact: false };
    p = p.slice(0, cut);
  }
}

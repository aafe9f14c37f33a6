// Small helpers shared by the playground's modules. Text always goes in
// as text (never as markup): message content comes from anyone.

// h builds an element: h('button', {class: 'x', onclick: f}, 'label', child).
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'text') e.textContent = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false || c === '') continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// getJSON reads a JSON answer; it throws with the answer's error message.
export async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(errorText(res.status, body));
  return body;
}

// postJSON posts body (an object, or a string sent as it is) and returns
// the status and the decoded answer.
export async function postJSON(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let answer = text;
  try { answer = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: res.status, ok: res.ok, answer };
}

// errorText says what went wrong in an answer of parley or a simulator.
export function errorText(status, body) {
  if (body && typeof body === 'object' && body.error) {
    const e = body.error;
    if (typeof e === 'string') return e;
    return `${e.code || status}: ${e.message || ''}`.trim();
  }
  if (typeof body === 'string' && body) return `HTTP ${status}: ${body}`;
  return `HTTP ${status}`;
}

export function pretty(v) {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

export function clock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function clockSeconds(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

// nearBottom reports whether a scrolled list shows its last lines.
export function nearBottom(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}

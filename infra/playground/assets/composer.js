// The composer: a JSON editor for POST /v1/messages, examples of every
// type one click away, and the API's answer with each problem shown beside
// the line of the field it names.

import { h, postJSON, pretty } from './dom.js';
import { types, native, example } from './examples.js';
import { locate, lineOf } from './jsonpath.js';

// lineHeight is the editor's line height in pixels (see .editor in the CSS).
const lineHeight = 18;

export class Composer {
  // phones maps a channel to its Phone; sent(channel) is called after a send.
  constructor(phones, sent) {
    this.phones = phones;
    this.sent = sent;
    this.editor = document.getElementById('request');
    this.gutter = document.getElementById('gutter');
    this.backdrop = document.getElementById('backdrop');
    this.examples = document.getElementById('examples');
    this.problems = document.getElementById('problems');
    this.error = document.getElementById('composer-error');
    this.state = document.getElementById('send-state');
    this.sendButton = document.getElementById('send');
    this.bad = new Set();
    this.lastExample = null;

    for (const t of types) {
      this.examples.append(h('button', {
        type: 'button', dataset: { type: t }, onclick: () => this.fill(t),
      }, t));
    }
    document.querySelectorAll('input[name=channel]').forEach((r) => r.addEventListener('change', () => this.channelChanged()));
    this.editor.addEventListener('input', () => { this.bad.clear(); this.draw(); });
    this.editor.addEventListener('scroll', () => this.syncScroll());
    this.editor.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); }
    });
    this.sendButton.addEventListener('click', () => this.send());
    this.markExamples();
    this.fill('text');
  }

  get channel() {
    return document.querySelector('input[name=channel]:checked').value;
  }

  context(channel) {
    const phone = this.phones[channel];
    const target = phone.latest((r) => r.direction === 'inbound' && r.platformMessageId && !(r.body && r.body.type === 'reaction'));
    return { businessId: phone.businessId, to: phone.customerId, reactionTarget: target ? target.id : '' };
  }

  markExamples() {
    const ch = this.channel;
    for (const b of this.examples.querySelectorAll('button')) {
      const own = native[ch].has(b.dataset.type);
      const adapt = ch === 'whatsapp' && b.dataset.type === 'timePicker';
      b.classList.toggle('foreign', !own);
      b.title = own ? `Fill the editor with a ${b.dataset.type} example`
        : adapt ? 'WhatsApp has no time picker: this example sets "adapt": true, asking parley for the closest form it has'
          : `${ch === 'apple' ? 'Apple' : 'WhatsApp'} has no ${b.dataset.type}: send it to see the API's answer`;
      b.setAttribute('aria-label', `Example: ${b.dataset.type}${own ? '' : ` (not on ${ch})`}`);
    }
  }

  fill(type) {
    const text = pretty(example(type, this.channel, this.context(this.channel)));
    this.lastExample = { type, text };
    this.setText(text);
  }

  setText(text) {
    this.editor.value = text;
    this.bad.clear();
    this.clearResult();
    this.draw();
  }

  // channelChanged moves the editor's request to the other channel: an
  // untouched example is replaced by the channel's own, an edited request
  // keeps its message and gets the channel's ids.
  channelChanged() {
    this.markExamples();
    const ch = this.channel;
    if (this.lastExample && this.editor.value === this.lastExample.text) {
      this.fill(this.lastExample.type);
      return;
    }
    try {
      const req = JSON.parse(this.editor.value);
      const ctx = this.context(ch);
      Object.assign(req, { channel: ch, businessId: ctx.businessId, to: ctx.to });
      this.setText(pretty(req));
    } catch {
      // Not JSON: leave the person's text alone.
    }
  }

  // idsChanged follows the phones' ids in an untouched example.
  idsChanged() {
    if (this.lastExample && this.editor.value === this.lastExample.text) this.fill(this.lastExample.type);
  }

  clearResult() {
    this.error.textContent = '';
    this.problems.replaceChildren();
    this.state.textContent = '';
    this.state.className = '';
    document.getElementById('exchange').hidden = true;
  }

  async send() {
    this.clearResult();
    const text = this.editor.value;
    let req;
    try {
      req = JSON.parse(text);
    } catch (e) {
      const { error } = locate(text);
      this.bad = new Set(error ? [error.line] : []);
      this.draw();
      if (error) this.reveal(error.line);
      this.error.textContent = `The request is not valid JSON${error ? ` (line ${error.line})` : ''}: ${e.message}. Nothing was sent.`;
      this.state.textContent = 'not sent';
      this.state.className = 'bad';
      return;
    }
    this.sendButton.disabled = true;
    this.state.textContent = 'sending…';
    let res;
    try {
      res = await postJSON('/v1/messages', text);
    } catch (e) {
      this.error.textContent = `The send API could not be reached: ${e.message}`;
      this.state.textContent = 'not sent';
      this.state.className = 'bad';
      return;
    } finally {
      this.sendButton.disabled = false;
    }
    this.showExchange(req, res);
    const err = res.answer && res.answer.error;
    if (res.ok) {
      this.state.textContent = `${res.status} ${res.answer.status || ''}${res.answer.adapted ? ` (adapted: ${res.answer.adapted.from} → ${res.answer.adapted.to})` : ''}`;
      this.state.className = 'ok';
      this.bad.clear();
      this.draw();
      if (this.sent) this.sent(req.channel);
      return;
    }
    this.state.textContent = `${res.status} ${err ? err.code : ''}`;
    this.state.className = 'bad';
    if (err) this.error.textContent = err.message || err.code;
    this.showProblems((err && err.details) || []);
  }

  showExchange(req, res) {
    document.getElementById('exchange').hidden = false;
    document.getElementById('request-line').textContent = 'POST /v1/messages';
    document.getElementById('sent').textContent = pretty(req);
    document.getElementById('answer-status').textContent = `HTTP ${res.status}`;
    document.getElementById('answer').textContent = pretty(res.answer);
  }

  showProblems(details) {
    const { lines } = locate(this.editor.value);
    this.bad = new Set();
    const items = details.map((d) => {
      const at = lineOf(lines, d.field || '');
      this.bad.add(at.line);
      return h('li', { dataset: { field: d.field || '' } },
        h('button', {
          type: 'button', title: `Go to line ${at.line}`, onclick: () => this.goTo(at.line),
        }, d.field || '(request)'),
        ' ', h('span', {}, d.problem || ''),
        ' ', h('span', { class: 'where' }, at.exact ? `line ${at.line}` : `missing; its place is near line ${at.line}`));
    });
    this.problems.replaceChildren(...items);
    this.draw();
    if (this.bad.size) this.reveal(Math.min(...this.bad));
  }

  goTo(line) {
    const rows = this.editor.value.split('\n');
    const start = rows.slice(0, line - 1).reduce((k, r) => k + r.length + 1, 0);
    this.editor.focus();
    this.editor.setSelectionRange(start, start + (rows[line - 1] || '').length);
    this.reveal(line);
  }

  // reveal scrolls the editor so that line shows near its top.
  reveal(line) {
    this.editor.scrollTop = Math.max(0, (line - 3) * lineHeight);
    this.syncScroll();
  }

  // draw redraws the line numbers and the highlighted lines behind the text.
  draw() {
    const rows = this.editor.value.split('\n');
    this.gutter.replaceChildren(...rows.map((_, k) => {
      const n = k + 1;
      return h('div', { class: this.bad.has(n) ? 'bad' : '' }, String(n));
    }));
    this.backdrop.replaceChildren(...rows.map((r, k) => h('div', { class: this.bad.has(k + 1) ? 'bad' : '' }, r || ' ')));
    this.editor.setAttribute('aria-invalid', this.bad.size ? 'true' : 'false');
    this.syncScroll();
  }

  syncScroll() {
    this.backdrop.scrollTop = this.editor.scrollTop;
    this.backdrop.scrollLeft = this.editor.scrollLeft;
    this.gutter.scrollTop = this.editor.scrollTop;
  }
}

// The conversation list: every conversation parley's event log names, both
// channels, the most recent first, with WhatsApp's window or Apple's closed
// state. A click shows one on its channel's phone; the page's URL names the
// two conversations shown, so that a link opens them again:
// /?waBusiness=…&waCustomer=…&appleBusiness=…&appleCustomer=…

import { h, getJSON, clock } from './dom.js';

// urlKeys are the URL's parameters of each phone's ids.
const urlKeys = {
  whatsapp: ['waBusiness', 'waCustomer'],
  apple: ['appleBusiness', 'appleCustomer'],
};

// openFromURL shows the conversations the page's URL names.
export function openFromURL(phones) {
  const q = new URLSearchParams(window.location.search);
  for (const [ch, [biz, cust]] of Object.entries(urlKeys)) {
    if (!phones[ch]) continue;
    const b = q.get(biz);
    const c = q.get(cust);
    if (b || c) phones[ch].open(b || phones[ch].businessId, c || phones[ch].customerId);
  }
}

// writeURL makes the page's URL name the conversations shown, without a
// new history entry.
export function writeURL(phones) {
  const q = new URLSearchParams(window.location.search);
  for (const [ch, [biz, cust]] of Object.entries(urlKeys)) {
    if (!phones[ch]) continue;
    q.set(biz, phones[ch].businessId);
    q.set(cust, phones[ch].customerId);
  }
  window.history.replaceState(null, '', `${window.location.pathname}?${q}`);
}

export class ConversationList {
  constructor(phones) {
    this.phones = phones;
    this.list = document.getElementById('conv-list');
    this.count = document.getElementById('conv-count');
    this.errorEl = document.getElementById('conv-error');
    this.items = [];
    this.timer = 0;
  }

  scheduleRefresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 150);
  }

  async refresh() {
    try {
      const page = await getJSON('/playground/conversations');
      this.items = page.conversations || [];
      this.errorEl.textContent = '';
    } catch (e) {
      this.errorEl.textContent = `Reading the conversations failed: ${e.message}`;
      return;
    }
    this.render();
  }

  // render draws the list; the conversations on the phones are marked.
  render() {
    this.count.textContent = this.items.length ? `(${this.items.length})` : '';
    if (!this.items.length) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'None yet: write as a customer, or send through the API.'));
      return;
    }
    this.list.replaceChildren(...this.items.map((c) => this.item(c)));
  }

  item(c) {
    const phone = this.phones[c.channel];
    const current = phone && phone.businessId === c.businessId && phone.customerId === c.customerId;
    const state = conversationState(c);
    const channelName = c.channel === 'whatsapp' ? 'WhatsApp' : 'Apple';
    return h('li', { dataset: { channel: c.channel, business: c.businessId, customer: c.customerId, window: state.key } },
      h('button', {
        type: 'button', class: 'conv', 'aria-current': current ? 'true' : undefined,
        title: `${channelName}: ${c.customerId} with ${c.businessId}, last ${c.lastEvent}`,
        onclick: () => phone && phone.open(c.businessId, c.customerId),
      },
      h('span', { class: `conv-channel ${c.channel}` }, channelName),
      h('span', { class: 'conv-customer' }, c.customerId),
      h('span', { class: 'conv-business' }, c.businessId),
      h('span', { class: 'conv-meta' },
        h('span', { class: `conv-state ${state.key}` }, state.text),
        h('time', { datetime: c.lastActivityAt }, clock(c.lastActivityAt)))));
  }
}

// conversationState says in two words whether parley may write freely.
function conversationState(c) {
  if (c.channel === 'whatsapp') {
    const w = c.window || {};
    if (w.open && new Date(w.closesAt).getTime() > Date.now()) return { key: 'open', text: 'window open' };
    return { key: 'closed', text: 'window closed' };
  }
  return c.closed ? { key: 'closed', text: 'closed' } : { key: 'open', text: 'open' };
}

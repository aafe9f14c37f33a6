// The event panel and the live stream: the event log arrives over
// Server-Sent Events, newest at the bottom.

import { h, pretty, clockSeconds, nearBottom } from './dom.js';

const maxShown = 500;

export class EventPanel {
  constructor() {
    this.list = document.getElementById('event-list');
    this.count = document.getElementById('event-count');
    this.total = 0;
    this.stick = true;
    this.list.addEventListener('scroll', () => { this.stick = nearBottom(this.list); });
    document.getElementById('clear-events').addEventListener('click', () => {
      this.list.replaceChildren();
      this.total = 0;
      this.count.textContent = '';
    });
  }

  add(ev) {
    const body = ev.body ? ev.body.type : '';
    const json = h('pre', { class: 'event-json', hidden: true }, pretty(ev));
    const toggle = h('button', {
      type: 'button', 'aria-expanded': 'false', 'aria-label': `Show the JSON of ${ev.type} ${ev.id}`,
      onclick: () => {
        json.hidden = !json.hidden;
        toggle.setAttribute('aria-expanded', String(!json.hidden));
        toggle.textContent = json.hidden ? 'JSON' : 'hide';
      },
    }, 'JSON');
    const kind = ev.type.split('.')[1] || '';
    const li = h('li', { dataset: { id: ev.id, type: ev.type, channel: ev.channel, body } },
      h('div', { class: 'event-row' },
        h('time', { datetime: ev.time }, clockSeconds(ev.time)),
        h('span', { class: `event-type ${kind}` }, ev.type),
        h('span', { class: 'event-channel' }, ev.channel),
        h('span', { class: 'event-summary', title: summary(ev) }, summary(ev),
          ev.stale ? h('span', { class: 'flag' }, 'stale') : null,
          ev.unmatched ? h('span', { class: 'flag' }, 'unmatched') : null),
        toggle),
      json);
    this.list.append(li);
    while (this.list.children.length > maxShown) this.list.firstElementChild.remove();
    this.total++;
    this.count.textContent = `(${this.total})`;
    if (this.stick) this.list.scrollTop = this.list.scrollHeight;
  }
}

// summary says in a few words what an event is about.
function summary(ev) {
  const b = ev.body;
  switch (ev.type) {
    case 'message.received':
      if (!b) return '';
      switch (b.type) {
        case 'text': return `text: ${b.text || '(in blob storage)'}`;
        case 'selection': return `selection: ${(b.selections || []).map((s) => s.title || s.id).join(', ')}`;
        case 'timeslot': return `timeslot: ${b.timeslot ? b.timeslot.id : ''}`;
        case 'location': return `location: ${b.location ? b.location.name || `${b.location.latitude}, ${b.location.longitude}` : ''}`;
        case 'order': return `order: ${b.order ? (b.order.items || []).length : 0} lines`;
        case 'reaction': return b.reaction && b.reaction.removed ? 'reaction removed' : `reaction ${b.reaction ? b.reaction.emoji : ''}`;
        case 'auth': return `auth: ${b.auth ? b.auth.status || b.auth.error || '' : ''}`;
        case 'payment': return `payment: ${b.payment ? b.payment.status || '' : ''}`;
        case 'contacts': return `contacts: ${(b.contacts || []).map((c) => (c.name && c.name.formatted_name) || '?').join(', ')}`;
        case 'revoke': return `revoke: ${b.originalId || ''}`;
        case 'edit': return `edit of ${b.originalId || ''}: ${(b.edited && b.edited.text) || ''}`;
        case 'system': return `system: ${b.system ? b.system.change || b.system.type : ''}`;
        case 'callPermission': return `call permission: ${b.callPermission ? b.callPermission.response : ''}`;
        default: return b.type + (b.unsupported ? `: ${b.unsupported}` : '');
      }
    case 'message.sent': return ev.messageId || '';
    case 'message.status': return `${ev.status}${ev.error ? `: ${ev.error.code}` : ''}`;
    case 'message.failed': return ev.error ? `${ev.error.code}: ${ev.error.message}` : '';
    case 'conversation.typing': return ev.status || '';
    case 'payment.callback': return b && b.payment ? b.payment.status || '' : '';
    case 'customer.preferences': return b ? (b.preferences || []).map((p) => `${p.category}: ${p.value}`).join(', ') : '';
    case 'platform.error': return ev.error && ev.error.platform ? `${ev.error.platform.code}: ${ev.error.platform.title || ev.error.message}` : '';
    default: return '';
  }
}

// connect follows the event stream, calling onEvent for each event and
// onState with "connecting", "connected" or "disconnected". EventSource
// reconnects by itself and sends Last-Event-ID; when it gives up (the
// server answered with an error), connect starts again after the last id.
export function connect(onEvent, onState) {
  let last = '';
  const open = () => {
    onState('connecting');
    const es = new EventSource(`/playground/stream${last ? `?after=${encodeURIComponent(last)}` : ''}`);
    es.onopen = () => onState('connected');
    es.onmessage = (e) => {
      if (e.lastEventId) last = e.lastEventId;
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      onEvent(ev);
    };
    es.onerror = () => {
      onState('disconnected');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        setTimeout(open, 2000);
      }
    };
  };
  open();
}

// A phone: one conversation drawn the way the customer's device shows it,
// from parley's records (GET /v1/conversations/…), with what the simulator
// accepted (its wire JSON) one click away. Everything the customer does
// goes through the simulator's /reply, which calls parley's webhook.

import { h, getJSON, postJSON, errorText, clock, pretty, nearBottom } from './dom.js';
import { openSheet } from './sheet.js';

const emojis = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

// playgroundGroup is the WhatsApp group the customer writes in from "More…".
const playgroundGroup = 'Y2FwaV9ncm91cDpwbGF5Z3JvdW5kOjEyMDM2MzQwNDY5NDIzMzgyMA';

export class Phone {
  constructor(el) {
    this.el = el;
    this.channel = el.dataset.channel;
    this.thread = el.querySelector('[data-role=thread]');
    this.stateEl = el.querySelector('[data-role=state]');
    this.errorEl = el.querySelector('[data-role=error]');
    this.biz = el.querySelector('input[name=businessId]');
    this.cust = el.querySelector('input[name=customerId]');
    this.conv = null;
    this.wire = new Map();
    this.openWire = new Set();
    this.timer = 0;
    this.listeners = [];
    // stick keeps the thread scrolled to the newest message until the
    // person scrolls up; images that load late keep it there too.
    this.stick = true;
    this.thread.addEventListener('scroll', () => { this.stick = nearBottom(this.thread); });
    this.thread.addEventListener('load', () => { if (this.stick) this.thread.scrollTop = this.thread.scrollHeight; }, true);

    const form = el.querySelector('[data-role=reply]');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const input = form.elements.text;
      const text = input.value;
      if (!text.trim()) return;
      const problem = await this.customer({ text });
      if (problem) this.showError(problem);
      else input.value = '';
    });
    const media = el.querySelector('[data-role=media]');
    if (media) {
      // The customer sends a file the simulator makes up; the text box is
      // its caption where WhatsApp has one.
      media.addEventListener('change', async () => {
        const type = media.value;
        media.value = '';
        if (!type) return;
        const input = form.elements.text;
        const file = { type, size: { image: 48000, audio: 24000, video: 400000, document: 30000, sticker: 20000 }[type] };
        if (type === 'audio') file.voice = true;
        if (type === 'document') file.filename = 'receipt.pdf';
        if (['image', 'video', 'document'].includes(type) && input.value.trim()) file.caption = input.value;
        const problem = await this.customer(file, '/reply/media');
        if (problem) this.showError(problem);
        else input.value = '';
      });
    }
    const more = el.querySelector('[data-role=more]');
    if (more) {
      // The customer's other acts: each a /reply action (or a preference)
      // of the simulator; some take the text box.
      more.addEventListener('change', async () => {
        const what = more.value;
        more.value = '';
        if (!what) return;
        const input = form.elements.text;
        const act = this.moreAction(what, input.value.trim());
        if (typeof act === 'string') {
          this.showError(act);
          return;
        }
        const problem = await this.customer(act.payload, act.path);
        if (problem) {
          this.showError(problem);
          return;
        }
        if (act.usesText) input.value = '';
        if (act.then) act.then();
      });
    }
    const close = el.querySelector('[data-role=close]');
    if (close) {
      close.addEventListener('click', async () => {
        const problem = await this.customer({ type: 'close' });
        if (problem) this.showError(problem);
      });
    }
    for (const input of [this.biz, this.cust]) {
      input.addEventListener('change', () => this.changed());
    }
  }

  // open shows the conversation of businessId and customerId.
  open(businessId, customerId) {
    if (businessId === this.businessId && customerId === this.customerId) return;
    this.biz.value = businessId;
    this.cust.value = customerId;
    this.changed();
  }

  changed() {
    this.openWire.clear();
    this.conv = null;
    this.refresh();
    this.listeners.forEach((f) => f());
  }

  get businessId() { return this.biz.value.trim(); }
  get customerId() { return this.cust.value.trim(); }

  // onIdsChange calls f when the person edits the conversation's ids.
  onIdsChange(f) { this.listeners.push(f); }

  // shows reports whether an event belongs to this conversation.
  shows(ev) {
    return ev.channel === this.channel && ev.businessId === this.businessId &&
      (ev.customerId === this.customerId || ev.customerId === this.customerId.replace(/^\+/, ''));
  }

  // latest returns the newest record matching pred, or null.
  latest(pred) {
    const recs = (this.conv && this.conv.recentMessages) || [];
    return recs.find(pred) || null;
  }

  scheduleRefresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 120);
  }

  async refresh() {
    // Only the newest refresh draws: an older one may answer last after
    // the person switched conversations.
    const seq = (this.seq || 0) + 1;
    this.seq = seq;
    const ch = this.channel;
    const conv = `/v1/conversations/${ch}/${encodeURIComponent(this.businessId)}/${encodeURIComponent(this.customerId)}`;
    const wire = `/sim/${ch}/messages?to=${encodeURIComponent(this.customerId)}`;
    try {
      const [c, w] = await Promise.all([getJSON(conv), getJSON(wire).catch(() => [])]);
      if (seq !== this.seq) return;
      this.conv = c;
      this.wire = new Map();
      for (const a of w || []) {
        if (ch === 'whatsapp') this.wire.set(a.wamid, a.request);
        else this.wire.set(a.id, a.body);
      }
      this.showError('');
    } catch (e) {
      if (seq !== this.seq) return;
      this.showError(`Reading the conversation failed: ${e.message}`);
      return;
    }
    this.render();
  }

  showError(text) { this.errorEl.textContent = text; }

  // customer plays the customer: payload goes to the simulator's /reply
  // with the conversation's ids. It resolves to a problem, or to nothing.
  async customer(payload, path = '/reply') {
    const body = { businessId: this.businessId, from: this.customerId, ...payload };
    let res;
    try {
      res = await postJSON(`/sim/${this.channel}${path}`, body);
    } catch (e) {
      return `The simulator could not be reached: ${e.message}`;
    }
    if (!res.ok) return errorText(res.status, res.answer);
    const a = res.answer || {};
    if (a.webhookStatus && (a.webhookStatus < 200 || a.webhookStatus > 299)) {
      return `parley's webhook answered ${a.webhookStatus}: ${a.webhookBody || ''}`;
    }
    this.showError('');
    this.scheduleRefresh();
    return undefined;
  }

  // moreAction is what "More…" item what asks the simulator for, or a
  // problem to show.
  moreAction(what, text) {
    const needs = (label) => (text ? null : `Write ${label} in the text box first.`);
    const lastInbound = (types) => this.latest((r) => r.direction === 'inbound' && r.platformMessageId && r.body && types.includes(r.body.type));
    switch (what) {
      case 'contacts':
        return needs("the contact's name") || { usesText: true, payload: { action: 'contacts',
          contacts: [{ name: { formatted_name: text }, phones: [{ phone: '+44 7700 900456', type: 'CELL' }] }] } };
      case 'locationLink':
        return { payload: { action: 'location', latitude: 51.5079, longitude: -0.0877, name: 'Borough Market',
          address: '8 Southwark St, London', url: 'https://maps.example/borough' } };
      case 'ad':
        return needs('a message') || { usesText: true, payload: { text, referral: { sourceUrl: 'https://fb.example/ads/4471',
          sourceType: 'ad', headline: 'Autumn boxes are back', body: 'Order by Friday for a free tote' } } };
      case 'forwarded':
        return needs('a message') || { usesText: true, payload: { text, forwarded: 'once' } };
      case 'username':
        return needs('a message') || { usesText: true, payload: { text, username: 'sam.rivera', hidePhone: true } };
      case 'group':
        return needs('a message') || { usesText: true, payload: { text, group: playgroundGroup } };
      case 'poll':
        return { payload: { action: 'unsupported', unsupported: 'poll' } };
      case 'unrendered':
        return { payload: { action: 'unrendered' } };
      case 'edit': {
        const r = lastInbound(['text']);
        if (!r) return 'The customer has written no text to edit.';
        return needs('the new text') || { usesText: true, payload: { action: 'edit', replyTo: r.platformMessageId, text } };
      }
      case 'revoke': {
        const r = lastInbound(['text', 'media', 'contacts', 'location']);
        if (!r) return 'The customer has sent nothing to delete.';
        return { payload: { action: 'revoke', replyTo: r.platformMessageId } };
      }
      case 'callAccept':
      case 'callReject':
        return { payload: { action: 'callPermission', answer: what === 'callAccept' ? 'accept' : 'reject' } };
      case 'identity':
        return { payload: { action: 'system', change: 'identity' } };
      case 'number': {
        const phone = text.replace(/[^0-9]/g, '');
        if (!phone) return 'Write the new phone number in the text box first.';
        return { usesText: true, payload: { action: 'system', change: 'number', newPhone: phone },
          then: () => this.open(this.businessId, phone) };
      }
      case 'stop':
      case 'resume':
        return { path: '/preferences', payload: { value: what } };
    }
    return `Unknown item ${what}.`;
  }

  // act runs a customer action from a button outside a sheet.
  async act(payload) {
    const problem = await this.customer(payload);
    if (problem) this.showError(problem);
  }

  updateState() {
    const c = this.conv;
    if (!c) return;
    if (this.channel === 'whatsapp') {
      const w = c.window || {};
      const left = w.open && w.closesAt ? new Date(w.closesAt).getTime() - Date.now() : 0;
      if (w.open && left > 0) {
        const mins = Math.floor(left / 60000);
        this.stateEl.textContent = `window open, closes in ${Math.floor(mins / 60)} h ${mins % 60} min`;
        this.stateEl.dataset.window = 'open';
      } else {
        this.stateEl.textContent = 'window closed';
        this.stateEl.dataset.window = 'closed';
      }
      this.stateEl.title = c.lastInboundAt ? `The customer last wrote at ${new Date(c.lastInboundAt).toLocaleString()}` : 'The customer has not written yet';
      return;
    }
    this.stateEl.textContent = c.closed ? 'closed by the customer' : 'open';
    this.stateEl.dataset.window = c.closed ? 'closed' : 'open';
    this.stateEl.title = (c.capabilities || []).length ? `Device capabilities: ${c.capabilities.join(', ')}` : 'No capability-list yet';
  }

  render() {
    this.updateState();
    const recs = [...(this.conv.recentMessages || [])].reverse()
      .map((r, k) => ({ r, k, at: knownAt(r) }))
      .sort((x, y) => x.at - y.at || x.k - y.k)
      .map((x) => x.r);
    const byKey = new Map();
    for (const r of recs) {
      byKey.set(r.id, r);
      if (r.platformMessageId) byKey.set(r.platformMessageId, r);
    }
    const reactions = new Map();
    const react = (target, who, emoji) => {
      const cur = reactions.get(target.id) || {};
      cur[who] = emoji;
      reactions.set(target.id, cur);
    };
    const shown = [];
    for (const r of recs) {
      const m = r.message;
      const b = r.body;
      if (r.direction === 'outbound' && m && m.type === 'reaction' && r.status !== 'failed') {
        const t = byKey.get(m.messageId);
        if (t) { react(t, 'business', m.emoji || ''); continue; }
      }
      if (r.direction === 'inbound' && b && b.type === 'reaction' && b.reaction) {
        const t = byKey.get(b.reaction.messageId) || byKey.get(b.reaction.platformMessageId);
        if (t) { react(t, 'customer', b.reaction.removed ? '' : b.reaction.emoji); continue; }
      }
      shown.push(r);
    }
    const items = [];
    let day = '';
    for (const r of shown) {
      const d = new Date(r.createdAt).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
      if (d !== day) {
        items.push(h('li', { class: 'day', 'aria-hidden': 'true' }, d));
        day = d;
      }
      items.push(this.item(r, reactions.get(r.id) || {}, recs));
    }
    if (this.channel === 'apple' && this.conv.closed) {
      items.push(h('li', { class: 'closed-note' }, 'The customer closed this conversation. parley refuses to write until they write again.'));
    }
    if (!items.length) {
      const hint = this.channel === 'whatsapp'
        ? 'No messages yet. Write as the customer below: that opens the 24-hour window.'
        : 'No messages yet. Write as the customer below, or send from the composer.';
      items.push(h('li', { class: 'empty' }, hint));
    }
    this.thread.replaceChildren(...items);
    if (this.stick) this.thread.scrollTop = this.thread.scrollHeight;
  }

  item(r, reaction, recs) {
    const mine = r.direction === 'inbound';
    const li = h('li', {
      class: `msg ${mine ? 'mine' : 'theirs'}${r.status === 'failed' ? ' error' : ''}`,
      dataset: { id: r.id, type: r.type || '', direction: r.direction, platformId: r.platformMessageId || '' },
    });
    try {
      li.append(mine ? this.inbound(r, recs) : this.outbound(r));
    } catch (e) {
      li.append(h('div', { class: 'bubble' }, `(cannot draw this ${r.type} message: ${e.message})`));
    }
    const marks = [reaction.business, reaction.customer].filter(Boolean);
    if (marks.length) {
      li.append(h('div', { class: 'reactions', 'aria-label': `Reactions: ${marks.join(' ')}` }, marks.map((e) => h('span', {}, e))));
    }
    li.append(this.meta(r, reaction));
    if (r.error) li.append(h('div', { class: 'failure' }, `${r.error.code}: ${r.error.message}`));
    const w = this.wire.get(r.platformMessageId);
    if (w !== undefined && this.openWire.has(r.id)) {
      li.append(h('pre', { class: 'wire', 'aria-label': 'What the simulator accepted' }, pretty(w)));
    }
    return li;
  }

  meta(r, reaction) {
    const parts = [h('time', { datetime: r.createdAt }, clock(r.createdAt))];
    if (r.direction === 'outbound') {
      parts.push(status(this.channel, r.status));
      if (this.wire.has(r.platformMessageId)) {
        const open = this.openWire.has(r.id);
        parts.push(h('button', {
          type: 'button', 'aria-expanded': String(open), title: 'Show what the simulator accepted (wire JSON)',
          onclick: () => { if (open) this.openWire.delete(r.id); else this.openWire.add(r.id); this.render(); },
        }, open ? 'hide wire' : 'wire'));
      }
      if (this.channel === 'whatsapp' && r.platformMessageId && r.status !== 'failed') {
        parts.push(h('button', {
          type: 'button', 'aria-label': 'React to this message as the customer', dataset: { action: 'react' },
          onclick: () => this.reactSheet(r, reaction.customer),
        }, '☺ react'));
      }
    }
    return h('div', { class: 'meta' }, parts);
  }

  // outbound draws a message of the business.
  outbound(r) {
    const m = r.message || { type: r.type };
    return this.channel === 'whatsapp' ? this.waOutbound(r, m) : this.apOutbound(r, m);
  }

  waOutbound(r, m) {
    const replyTo = r.platformMessageId;
    const parts = (extra) => h('div', { class: 'bubble' },
      header(m.header), m.body ? h('div', { class: 'body' }, m.body) : null,
      m.footer ? h('div', { class: 'footer' }, m.footer) : null, extra);
    switch (m.type) {
      case 'text':
        return h('div', { class: 'bubble' }, m.previewUrl ? linkPreview(firstURL(m.text), '') : null, m.text);
      case 'richLink':
        return h('div', { class: 'bubble' }, linkPreview(m.url, m.title), m.url);
      case 'list':
        return parts(h('div', { class: 'wa-divided' }, h('button', {
          type: 'button', class: 'wa-action', dataset: { action: 'open-list' },
          onclick: () => this.waListSheet(r, m),
        }, `☰ ${m.button || 'Choose'}`)));
      case 'buttons':
        return h('div', { class: 'wa-block' }, parts(null), h('div', { class: 'wa-actions' },
          (m.buttons || []).map((b) => h('button', {
            type: 'button', class: 'wa-action', dataset: { action: 'reply-button', id: b.id },
            onclick: () => this.act({ action: 'select', replyTo, id: b.id }),
          }, `↩ ${b.title}`))));
      case 'ctaUrl':
        return parts(h('div', { class: 'wa-divided' }, h('a', {
          class: 'wa-action', href: m.url, target: '_blank', rel: 'noopener noreferrer',
          title: `${m.url} (WhatsApp sends no webhook for this tap)`,
        }, `↗ ${m.button || 'Open'}`)));
      case 'locationRequest':
        return parts(h('div', { class: 'wa-divided' }, h('button', {
          type: 'button', class: 'wa-action', dataset: { action: 'send-location' },
          onclick: () => this.locationSheet(r),
        }, 'Send location')));
      case 'product':
        return h('div', { class: 'bubble product-card' },
          h('div', { class: 'product-image', 'aria-hidden': 'true' }, '▦'),
          h('div', { class: 'header' }, m.productId),
          h('div', { class: 'caption' }, `catalog ${m.catalogId}`),
          m.body ? h('div', {}, m.body) : null, m.footer ? h('div', { class: 'footer' }, m.footer) : null,
          h('div', { class: 'wa-divided' }, h('button', {
            type: 'button', class: 'wa-action', dataset: { action: 'view-product' },
            onclick: () => this.cartSheet(r, [{ title: '', productIds: [m.productId] }], m.productId),
          }, 'View')));
      case 'productList': {
        const n = (m.sections || []).reduce((k, s) => k + (s.productIds || []).length, 0);
        return parts(h('div', { class: 'wa-divided' }, h('button', {
          type: 'button', class: 'wa-action', dataset: { action: 'view-items' },
          onclick: () => this.cartSheet(r, m.sections || [], m.header && m.header.text ? m.header.text : 'Items'),
        }, `View ${n} item${n === 1 ? '' : 's'}`)));
      }
      case 'template':
        return this.waTemplate(r, m);
      default:
        return h('div', { class: 'bubble' }, `[${m.type}]`, h('pre', { class: 'wire' }, pretty(m)));
    }
  }

  waTemplate(r, m) {
    const comps = Array.isArray(m.components) ? m.components : [];
    const lines = [];
    const buttons = [];
    for (const c of comps) {
      const params = (c.parameters || []).map(paramText).filter(Boolean);
      if (c.type === 'button') {
        const payload = (c.parameters || []).map((p) => p.payload).find(Boolean);
        if (c.sub_type === 'quick_reply' && payload) {
          buttons.push(h('button', {
            type: 'button', class: 'wa-action', dataset: { action: 'template-button', id: payload },
            onclick: () => this.act({ action: 'select', replyTo: r.platformMessageId, id: payload }),
          }, `↩ ${payload}`));
        } else {
          buttons.push(h('span', { class: 'wa-action' }, `${c.sub_type || 'button'} ${params.join(' ')}`));
        }
      } else if (params.length) {
        lines.push(h('div', {}, h('span', { class: 'caption' }, `${c.type}: `), params.join(' · ')));
      }
    }
    return h('div', { class: 'wa-block' },
      h('div', { class: 'bubble' },
        h('div', { class: 'template-tag' }, `template · ${m.language || ''}`),
        h('div', { class: 'header' }, m.name),
        lines.length ? lines : h('div', { class: 'caption' }, 'WhatsApp shows the approved text of this template.')),
      buttons.length ? h('div', { class: 'wa-actions' }, buttons) : null);
  }

  apOutbound(r, m) {
    const replyTo = r.platformMessageId;
    switch (m.type) {
      case 'text':
        return h('div', { class: 'bubble' }, m.text);
      case 'richLink':
        return h('a', { class: 'ap-card', href: m.url, target: '_blank', rel: 'noopener noreferrer' },
          m.image ? h('img', { class: 'ap-image', src: imageSrc(m.image), alt: '' }) : null,
          h('span', { class: 'ap-text' }, h('span', { class: 'ap-title' }, m.title), h('span', { class: 'ap-subtitle' }, host(m.url))));
      case 'list':
        return this.apCard(m, m.body || 'List', 'Tap to choose', 'open-list', () => this.apListSheet(r, m));
      case 'timePicker':
        return this.apCard(m, m.title || 'Choose a time', 'Tap to choose a time', 'open-timepicker', () => this.timeSheet(r, m));
      case 'buttons':
        return h('div', {},
          h('div', { class: 'bubble' }, m.body),
          h('div', { class: 'quick', role: 'group', 'aria-label': 'Quick replies' }, (m.buttons || []).map((b) => h('button', {
            type: 'button', dataset: { action: 'quick-reply', id: b.id },
            onclick: () => this.act({ action: 'select', replyTo, ids: [b.id] }),
          }, b.title))));
      case 'auth':
        return this.apCard(m, m.title || 'Sign in', 'Tap to sign in', 'open-auth', () => this.authSheet(r, m));
      case 'applePay':
        return this.apCard(m, m.title || 'Apple Pay', 'Tap to pay', 'open-pay', () => this.paySheet(r, m));
      case 'custom':
        return this.apCard(m, m.title || m.appName || 'iMessage app', m.appName || m.bundleId || '', 'open-custom', () => this.customSheet(r, m));
      default:
        return h('div', { class: 'bubble' }, `[${m.type}]`, h('pre', { class: 'wire' }, pretty(m)));
    }
  }

  // apCard draws Apple's receivedMessage bubble of an interactive message.
  apCard(m, title, subtitle, action, onclick) {
    const b = m.bubble || {};
    const img = b.imageId ? (m.images || []).find((i) => i.id === b.imageId) : (m.type === 'custom' ? m.image : null);
    const style = b.style || 'icon';
    return h('button', { type: 'button', class: `ap-card ${style}`, dataset: { action }, onclick },
      img ? h('img', { class: `ap-image ${style === 'large' ? '' : 'icon'}`, src: imageSrc(img), alt: '' }) : null,
      h('span', { class: 'ap-text' },
        h('span', { class: 'ap-title' }, b.title || title),
        h('span', { class: 'ap-subtitle' }, b.subtitle || subtitle)));
  }

  // inbound draws what the customer sent.
  inbound(r, recs) {
    const b = r.body;
    if (!b) return h('div', { class: 'bubble' }, h('span', { class: 'caption' }, '(kept in blob storage)'));
    switch (b.type) {
      case 'text':
        return h('div', { class: 'bubble' },
          b.forwarded ? h('div', { class: 'caption' }, b.forwarded === 'frequently' ? 'Forwarded many times' : 'Forwarded') : null,
          b.referral ? h('div', { class: 'caption' }, `From ${b.referral.sourceType === 'post' ? 'a post' : 'an ad'}: ${b.referral.headline || b.referral.sourceUrl}`) : null,
          b.text || h('span', { class: 'caption' }, '(long text kept in blob storage)'));
      case 'selection':
        return h('div', { class: 'bubble' }, answered(recs, (b.selections || [])[0] && b.selections[0].id),
          (b.selections || []).map((s, i) => h('div', {},
            i === 0 && this.channel === 'whatsapp' ? h('span', { 'aria-hidden': 'true' }, '↩ ') : null, s.title || s.id,
            s.description ? h('div', { class: 'caption' }, s.description) : null)));
      case 'timeslot': {
        const s = b.timeslot || {};
        const offset = offsetOf(recs, s.id);
        const p = s.start ? slotParts({ start: s.start, duration: s.duration }, offset) : null;
        return h('div', { class: 'bubble' }, answered(recs, s.id), p ? `${p.day}, ${p.range}` : s.id);
      }
      case 'location': {
        const l = b.location || {};
        return h('div', { class: 'bubble' }, h('div', { class: 'location' },
          h('div', { class: 'header' }, l.name || 'Location'), l.address ? h('div', {}, l.address) : null,
          h('div', { class: 'caption' }, `${l.latitude}, ${l.longitude}`),
          l.url ? h('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.url) : null));
      }
      case 'contacts':
        return h('div', { class: 'bubble' }, (b.contacts || []).map((c) => h('div', { class: 'contact' },
          h('span', { 'aria-hidden': 'true' }, '👤 '), (c.name && c.name.formatted_name) || 'Contact',
          (c.phones || [])[0] ? h('div', { class: 'caption' }, c.phones[0].phone) : null)));
      case 'revoke':
        return h('div', { class: 'bubble' }, h('span', { class: 'caption' }, '🚫 deleted a message'));
      case 'edit':
        return h('div', { class: 'bubble' }, (b.edited && b.edited.text) || '', h('div', { class: 'caption' }, 'edited a message'));
      case 'system': {
        const s = b.system || {};
        const what = { number: `changed their number to ${s.waId}`, userId: 'has a new business-scoped user id', identity: 'security code changed' }[s.change];
        return h('div', { class: 'bubble' }, h('span', { class: 'caption' }, `⚙ ${what || s.text || s.type}`));
      }
      case 'callPermission':
        return h('div', { class: 'bubble' }, `📞 ${b.callPermission && b.callPermission.response === 'accept' ? 'allows calls' : 'refuses calls'}`);
      case 'order': {
        const o = b.order || { items: [] };
        const n = (o.items || []).reduce((k, i) => k + (i.quantity || 0), 0);
        return h('div', { class: 'bubble' }, h('div', { class: 'header' }, `Order: ${n} item${n === 1 ? '' : 's'}`),
          (o.items || []).map((i) => h('div', { class: 'caption' }, `${i.productId} × ${i.quantity} · ${i.price} ${i.currency}`)),
          o.text ? h('div', {}, o.text) : null);
      }
      case 'auth': {
        const a = b.auth || {};
        return h('div', { class: 'bubble' }, a.error ? `Sign-in failed: ${a.error}` : `Signed in${a.status ? ` (${a.status})` : ''}`);
      }
      case 'payment':
        return h('div', { class: 'bubble' }, `Apple Pay: ${(b.payment && b.payment.status) || 'done'}`);
      case 'custom':
        return h('div', { class: 'bubble' }, 'Reply from the iMessage app');
      case 'flow':
        return h('div', { class: 'bubble' }, `Form: ${(b.flow && (b.flow.body || b.flow.name)) || 'Form sent'}`);
      case 'reaction':
        return h('div', { class: 'bubble' }, `${b.reaction && b.reaction.removed ? 'removed a reaction' : `reacted ${(b.reaction && b.reaction.emoji) || ''}`} to an older message`);
      case 'media': {
        const m = b.media || {};
        const what = { image: 'Photo', audio: m.voice ? 'Voice note' : 'Audio', video: 'Video', document: m.fileName || 'Document', sticker: m.animated ? 'Animated sticker' : 'Sticker' }[m.type] || m.type;
        const size = m.size ? ` · ${Math.max(1, Math.round(m.size / 1024))} KB` : '';
        return h('div', { class: 'bubble' }, h('div', { class: 'header' }, `📎 ${what}`),
          h('div', { class: 'caption' }, m.key ? `${m.mimeType || ''}${size}` : 'fetching…'),
          m.caption ? h('div', {}, m.caption) : null);
      }
      case 'unsupported':
        return h('div', { class: 'bubble' }, h('span', { class: 'caption' }, `(a ${b.unsupported || 'kind of'} message parley does not read)`));
      default:
        return h('div', { class: 'bubble' }, `[${b.type}]`);
    }
  }

  // Sheets: what opens on the customer's device when they tap.

  waListSheet(r, m) {
    const content = h('div', {}, (m.sections || []).map((s) => h('fieldset', {},
      s.title ? h('legend', {}, s.title) : null,
      (s.items || []).map((it) => choice('radio', it.id, it.title, it.description)))));
    openSheet(this.el, {
      title: m.button || 'Choose', content,
      ready: (f) => !!f.querySelector('input[name=choice]:checked'),
      send: (f) => this.customer({ action: 'select', replyTo: r.platformMessageId, id: f.querySelector('input[name=choice]:checked').value }),
    });
  }

  apListSheet(r, m) {
    const kind = m.multipleSelection ? 'checkbox' : 'radio';
    const images = new Map((m.images || []).map((i) => [i.id, i]));
    const content = h('div', {},
      m.multipleSelection ? h('p', { class: 'sheet-note' }, 'Choose one or more.') : null,
      (m.sections || []).map((s) => h('fieldset', {},
        s.title ? h('legend', {}, s.title) : null,
        (s.items || []).map((it) => choice(kind, it.id, it.title, it.description, images.get(it.imageId))))));
    openSheet(this.el, {
      title: (m.bubble && m.bubble.title) || m.body || 'List', content,
      ready: (f) => !!f.querySelector('input[name=choice]:checked'),
      send: (f) => this.customer({
        action: 'select', replyTo: r.platformMessageId,
        ids: [...f.querySelectorAll('input[name=choice]:checked')].map((i) => i.value),
      }),
    });
  }

  timeSheet(r, m) {
    const offset = typeof m.timezoneOffset === 'number' ? m.timezoneOffset : null;
    const days = new Map();
    for (const s of [...(m.slots || [])].sort((a, b) => new Date(a.start) - new Date(b.start))) {
      const p = slotParts(s, offset);
      if (!days.has(p.day)) days.set(p.day, []);
      days.get(p.day).push({ s, p });
    }
    const loc = m.location;
    const content = h('div', {},
      loc ? h('p', { class: 'sheet-note' }, `At ${loc.title || `${loc.latitude}, ${loc.longitude}`}`) : null,
      h('p', { class: 'sheet-note' }, offset === null ? 'Times in your time zone.' : `Times in the event's time zone (${zoneName(offset)}).`),
      [...days].map(([day, slots]) => h('fieldset', {}, h('legend', {}, day),
        h('div', { class: 'slots' }, slots.map(({ s, p }) => h('label', { class: 'slot' },
          h('input', { type: 'radio', name: 'choice', value: s.id, 'aria-label': `${day}, ${p.range}` }),
          h('span', { title: p.range }, p.start)))))));
    openSheet(this.el, {
      title: (m.bubble && m.bubble.title) || m.title || 'Choose a time', content,
      ready: (f) => !!f.querySelector('input[name=choice]:checked'),
      send: (f) => this.customer({ action: 'select', replyTo: r.platformMessageId, ids: [f.querySelector('input[name=choice]:checked').value] }),
    });
  }

  cartSheet(r, sections, title) {
    const single = sections.length === 1 && (sections[0].productIds || []).length === 1 && !sections[0].title;
    const content = h('div', {},
      sections.map((s) => h('fieldset', {}, s.title ? h('legend', {}, s.title) : null,
        (s.productIds || []).map((id) => h('div', { class: 'fields', dataset: { product: id } },
          h('label', { class: 'field' }, `${id}: quantity`, h('input', { type: 'number', name: 'quantity', min: '0', max: '99', value: single ? '1' : '0' })),
          h('label', { class: 'field' }, 'Price (GBP)', h('input', { name: 'price', value: '7.99', inputmode: 'decimal' })))))),
      h('label', { class: 'field' }, 'Note to the business (optional)', h('input', { name: 'note' })));
    openSheet(this.el, {
      title: single ? title : `${title}: cart`, sendLabel: 'Place order', content,
      ready: (f) => [...f.querySelectorAll('input[name=quantity]')].some((q) => Number(q.value) > 0),
      send: (f) => {
        const items = [...f.querySelectorAll('[data-product]')].map((row) => ({
          productId: row.dataset.product,
          quantity: Number(row.querySelector('input[name=quantity]').value),
          price: row.querySelector('input[name=price]').value.trim(),
          currency: 'GBP',
        })).filter((i) => i.quantity > 0);
        const note = f.querySelector('input[name=note]').value.trim();
        return this.customer({ action: 'order', replyTo: r.platformMessageId, items, ...(note ? { text: note } : {}) });
      },
    });
  }

  locationSheet(r) {
    const field = (label, name, value) => h('label', { class: 'field' }, label, h('input', { name, value }));
    const content = h('div', { class: 'fields' },
      field('Latitude', 'latitude', '51.5080'), field('Longitude', 'longitude', '-0.1281'),
      field('Name', 'name', 'Trafalgar Square'), field('Address', 'address', 'London WC2N 5DN'));
    openSheet(this.el, {
      title: 'Send location', content,
      ready: (f) => Number.isFinite(parseFloat(f.elements.latitude.value)) && Number.isFinite(parseFloat(f.elements.longitude.value)),
      send: (f) => this.customer({
        action: 'location', replyTo: r.platformMessageId,
        latitude: parseFloat(f.elements.latitude.value), longitude: parseFloat(f.elements.longitude.value),
        name: f.elements.name.value, address: f.elements.address.value,
      }),
    });
  }

  authSheet(r, m) {
    const o = m.oauth || {};
    const content = h('div', {},
      h('p', { class: 'sheet-note' }, `The business asks you to sign in (${o.responseType || 'code'}; scope ${(o.scope || []).join(' ') || '—'}). The simulator encrypts this token to the request's key, as the device does.`),
      h('label', { class: 'field' }, 'Token the identity provider returns', h('input', { name: 'token', value: 'local-oauth-token' })));
    openSheet(this.el, {
      title: (m.bubble && m.bubble.title) || 'Sign in', sendLabel: 'Sign in', content,
      ready: (f) => f.elements.token.value.trim() !== '',
      send: (f) => this.customer({ action: 'auth', replyTo: r.platformMessageId, token: f.elements.token.value.trim() }),
    });
  }

  paySheet(r, m) {
    const p = m.payment || {};
    const cur = p.currencyCode || '';
    const content = h('div', {},
      h('p', { class: 'sheet-note' }, p.merchantName || ''),
      (p.lineItems || []).map((i) => h('div', { class: 'pay-line' }, h('span', {}, i.label), h('span', {}, `${i.amount} ${cur}`))),
      p.total ? h('div', { class: 'pay-total' }, h('span', {}, p.total.label || 'Total'), h('span', {}, `${p.total.amount} ${cur}`)) : null);
    openSheet(this.el, {
      title: 'Apple Pay', sendLabel: 'Pay', content,
      send: () => this.customer({ action: 'pay', replyTo: r.platformMessageId, result: 'success' }),
    });
  }

  customSheet(r, m) {
    const content = h('div', {},
      h('p', { class: 'sheet-note' }, `${m.appName || 'The iMessage app'} (${m.bundleId || ''}) answers with a URL of its own.`),
      h('label', { class: 'field' }, 'Reply URL', h('input', { name: 'url', value: m.url || '' })));
    openSheet(this.el, {
      title: m.appName || 'iMessage app', content,
      ready: (f) => f.elements.url.value.trim() !== '',
      send: (f) => this.customer({ action: 'custom', replyTo: r.platformMessageId, url: f.elements.url.value.trim() }),
    });
  }

  reactSheet(r, current) {
    let sheet;
    const content = h('div', {},
      h('div', { class: 'emoji-row', role: 'group', 'aria-label': 'Reactions' }, emojis.map((e) => h('button', {
        type: 'button', 'aria-label': `React with ${e}`, 'aria-pressed': String(current === e),
        onclick: () => sheet.finish(() => this.customer({ action: 'react', replyTo: r.platformMessageId, emoji: e })),
      }, e))),
      current ? h('button', {
        type: 'button', class: 'secondary',
        onclick: () => sheet.finish(() => this.customer({ action: 'unreact', replyTo: r.platformMessageId })),
      }, `Remove ${current}`) : null);
    sheet = openSheet(this.el, { title: 'React', sendLabel: null, content });
  }
}

function choice(kind, id, title, desc, image) {
  return h('label', { class: 'choice' },
    image ? h('img', { src: imageSrc(image), alt: '' }) : null,
    h('span', { class: 'text' }, h('span', { class: 'title' }, title), desc ? h('span', { class: 'desc' }, desc) : null),
    h('input', { type: kind, name: 'choice', value: id }));
}

function header(hd) {
  if (!hd) return null;
  if (typeof hd === 'string') return h('div', { class: 'header' }, hd);
  if (hd.type === 'text') return h('div', { class: 'header' }, hd.text);
  if (hd.type === 'image' && hd.url) return h('img', { src: hd.url, alt: '' });
  return h('div', { class: 'caption' }, `[${hd.type}${hd.filename ? `: ${hd.filename}` : ''}]`);
}

function status(channel, s) {
  const marks = { accepted: '✓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '⚠ failed', scheduled: '🕓' };
  const text = channel === 'whatsapp' ? (marks[s] || s) : s;
  return h('span', { class: `status ${s}`, title: s, 'aria-label': `status ${s}` }, text);
}

function linkPreview(url, title) {
  if (!url) return null;
  return h('span', { class: 'preview' }, h('span', { class: 'title' }, title || host(url)), h('span', { class: 'url' }, host(url)));
}

function firstURL(text) {
  const m = /https?:\/\/\S+/.exec(text || '');
  return m ? m[0] : '';
}

function host(url) {
  try { return new URL(url).host; } catch { return url; }
}

function paramText(p) {
  switch (p.type) {
    case 'text': return p.text;
    case 'currency': return p.currency && p.currency.fallback_value;
    case 'date_time': return p.date_time && p.date_time.fallback_value;
    case 'payload': return '';
    default: return `[${p.type}]`;
  }
}

export function imageSrc(img) {
  if (img.data) {
    const mime = img.data.startsWith('/9j/') ? 'image/jpeg' : 'image/png';
    return `data:${mime};base64,${img.data}`;
  }
  return img.url || '';
}

// slotParts names a slot's day, start and range in the event's zone
// (offset minutes east of UTC), or in the viewer's zone when offset is null.
export function slotParts(slot, offset) {
  const start = new Date(slot.start);
  const end = new Date(start.getTime() + (slot.duration || 0) * 1000);
  const opts = offset === null ? {} : { timeZone: 'UTC' };
  const shift = (d) => (offset === null ? d : new Date(d.getTime() + offset * 60000));
  const time = (d) => shift(d).toLocaleTimeString('en-GB', { ...opts, hour: '2-digit', minute: '2-digit' });
  const day = shift(start).toLocaleDateString('en-GB', { ...opts, weekday: 'short', day: 'numeric', month: 'short' });
  return { day, start: time(start), range: slot.duration ? `${time(start)}–${time(end)}` : time(start) };
}

function zoneName(offset) {
  const sign = offset < 0 ? '−' : '+';
  const a = Math.abs(offset);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// offsetOf finds the time zone of the time picker that offered slot id.
function offsetOf(recs, id) {
  for (const r of [...recs].reverse()) {
    const m = r.message;
    if (m && m.type === 'timePicker' && (m.slots || []).some((s) => s.id === id)) {
      return typeof m.timezoneOffset === 'number' ? m.timezoneOffset : null;
    }
  }
  return null;
}

// answered returns, for an Apple reply, the title of the reply bubble of
// the interactive message that offered id (Apple shows the customer's
// answer in it); nothing on WhatsApp or when no message offered id.
function answered(recs, id) {
  if (!id) return null;
  for (const r of [...recs].reverse()) {
    const m = r.message;
    if (!m || r.channel !== 'apple' || !m.replyBubble || !m.replyBubble.title) continue;
    const ids = [
      ...(m.sections || []).flatMap((s) => (s.items || []).map((i) => i.id)),
      ...(m.slots || []).map((s) => s.id),
      ...(m.buttons || []).map((b) => b.id),
    ];
    if (ids.includes(id)) return h('div', { class: 'header' }, m.replyBubble.title);
  }
  return null;
}

// knownAt is when parley learnt of a record: an inbound record's createdAt
// is the platform's timestamp (WhatsApp's counts whole seconds), its first
// history entry is parley's own clock, as for the messages it sent.
function knownAt(r) {
  const first = r.history && r.history[0] && r.history[0].at;
  const t = new Date(first || r.createdAt).getTime();
  return Number.isNaN(t) ? 0 : t;
}

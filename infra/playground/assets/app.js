// The playground page: the conversation list, two phones, the composer and
// the event panel, wired to the live event stream.

import { Phone } from './phone.js';
import { Composer } from './composer.js';
import { EventPanel, connect } from './events.js';
import { initSheet } from './sheet.js';
import { ConversationList, openFromURL, writeURL } from './conversations.js';

const connText = {
  connecting: 'connecting…',
  connected: 'connected',
  disconnected: 'disconnected — reconnecting…',
};

function start() {
  initSheet();
  const phones = {
    whatsapp: new Phone(document.getElementById('whatsapp')),
    apple: new Phone(document.getElementById('apple')),
  };
  const composer = new Composer(phones, (channel) => phones[channel] && phones[channel].scheduleRefresh());
  const convs = new ConversationList(phones);
  openFromURL(phones);
  for (const p of Object.values(phones)) {
    p.onIdsChange(() => {
      composer.idsChanged();
      convs.render();
      writeURL(phones);
    });
    p.refresh();
  }
  writeURL(phones);
  convs.refresh();
  const panel = new EventPanel();
  const conn = document.getElementById('conn');
  connect((ev) => {
    panel.add(ev);
    convs.scheduleRefresh();
    for (const p of Object.values(phones)) {
      if (p.shows(ev)) p.scheduleRefresh();
    }
  }, (state) => {
    const was = conn.dataset.state;
    conn.dataset.state = state;
    conn.textContent = connText[state];
    // Back after an outage: what changed meanwhile is in the conversations.
    if (state === 'connected' && was === 'disconnected') {
      for (const p of Object.values(phones)) p.refresh();
      convs.refresh();
    }
  });
  // The window countdown moves with the clock, not only with events.
  setInterval(() => {
    Object.values(phones).forEach((p) => p.updateState());
    convs.render();
  }, 30000);
}

start();

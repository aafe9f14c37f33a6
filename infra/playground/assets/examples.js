// Examples of every message type of the send API, one per channel: what
// a click on a type's button puts in the composer. Each is valid for the
// channel it is written for; a type the channel lacks gets the other
// channel's example, so the API's unsupported_on_channel answer shows.

// Small PNG images, inline: the playground fetches nothing from elsewhere.
const png = {
  apple: 'iVBORw0KGgoAAAANSUhEUgAAADwAAAA8CAYAAAA6/NlyAAAAwUlEQVR42u3biw2AIAyEYcZhCOd0NNfREQyP0mv7X8IAX6ISytkaISZ5en9TomZXCWQovAVUFn4CK4G2AF33pQnfCfxb7uiTWHe0B9YNbfG+rmLN0FZf3R3Y7eiT284I0Ax9Euy+T0fCLqMjYpfQpcCRsVNowJnBGbBDaMCAAQMGrArOhC2J5pEGDBgwYI6IDAAAM8hjTMswnusWLtPCXpnKNHxKYZXRqYpoMn2tUlgFNF1L2rT0pWnE888DIYSo5QOsm8BlRhH4OgAAAABJRU5ErkJggg==',
  orange: 'iVBORw0KGgoAAAANSUhEUgAAADwAAAA8CAYAAAA6/NlyAAAAwklEQVR42u3byQ2AMAxE0VRCJTTJhU45Qwkoi+Ox/UdKAU8CojhDa4SY5LmONyVqdJVAhsJbQGXhO7ASaAvQeZ+a8JXAv+WO3ol1R3tg3dAW7+ss1gxt9dVdgV2O3rnt9ADN0DvB7vt0JOw0OiJ2Cl0KHBk7hAacGZwB24UGDBgwYMCq4EzYkmgeacCAAQPmiMgAADCDPMa0DOO5buEyLeyVqUzDpxRWGZ2qiCbT1yqFVUDTtaRNS1+aRjz/PBBCiFo+4Q25fR+BHuoAAAAASUVORK5CYII=',
  lettuce: 'iVBORw0KGgoAAAANSUhEUgAAADwAAAA8CAYAAAA6/NlyAAAArUlEQVR42u3bwQ3AIAxDUUbsJB2xq7UzFEhw4m+JAZ7EhcSMQUhI7ud6W6JmjwWyFD4CKgvPwEqgM6HH4Sex6WgFbBpaCRuOVsSGoZWx29EVsFvRVuBK2GV0RewS2gpcGTuFBtwZ3AH7Cw0YMGDAgFXBnbCWaK40YMCAAfNEZAAAmEEeY1qG8axbWKbZrUxpANDxoMVDT4smnnXX0rZNa9mXtm3EW/95IISQ3fkABbuOQHU8Ud0AAAAASUVORK5CYII=',
  shop: 'iVBORw0KGgoAAAANSUhEUgAAADwAAAA8CAYAAAA6/NlyAAAAbUlEQVR42u3asQ2AMBRDwYzBpuzNAjACSiIKm3vS731VmowhSZKkso7zuuuBb/cbaA18BRuLnkXEo1fGx4J3hkeidwcDA4c8NV8cMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBw888fSZKkih5VB1mm8HlNrQAAAABJRU5ErkJggg==',
  cabinet: 'iVBORw0KGgoAAAANSUhEUgAAAPAAAAB4CAYAAADMtn8nAAADpUlEQVR42u3WWRJYYxCG4X8lFmGKeXZvnud5jHkOIYQQQgghhBBCCCE2YVdH33cvoLvquXi6/utT31t11qvXnb0BMy0fAQYH/FocYKb12vXxAEZar8cBZhIwTA74jRvO2YCZBAyTA94VB5hp7boxHsBI6804wEwChskBv3XTuRswk4BhcsC74wAzrd03xwMYab0dB5hJwDA54HduOW8DZhIwTA54TxxgprXn1ngAI6134wAzCRgmB/zebedvwEwChskB740DzLT23h4PYKT1fhxgJgHD5IA/uGPHRnbHjrNoxCZrAhawgCcHvC8OmWh6scna2ndnPEhE0yxgmyytD+OQiaYXm6wJWMACnhzwR3ddsJGJphebrAlYwAKeHPD+OGSi6cUma2v/3fEgEU2zgG2ytD6OQyaaXmyyJmABC3hywJ/cc+FGJppebLImYAELeHLAB+KQiaYXm6ytA/fGg0Q0zQK2ydL6NA6ZaHqxyZqABSzgyQF/dt9FG5loerHJmoAFLODJAR+MQyaaXmyytg7eHw8S0TQL2CZL6/M4ZKLpxSZrAhawgCcH/MUDF29kounFJmsCFrCAJwd8KA6ZaHqxydo69GA8SETTLGCbLK0v45CJphebrAlYwAKeHPBXD12ykYmmF5usCVjAAp4c8OE4ZKLpxSZr6/DD8SARTbOAbbK0vo5D9t+xnTRikzUBC1jAkwP+5pFLNzK/rb3YZE3AAhbw5ICPxCETTS82WVtHHo0HiWiaBWyTpfVtHDLR9GKTNQELWMCTA/7uscs2MtH0YpM1AQtYwJMDPhqHTDS92GRtHX08HiSiaRawTZbW93HIRNOLTdYELGABTw74hycu38hE04tN1gQsYAFPDvhYHDLR9GKTtXXsyXiQiKZZwDZZWj/GIRNNLzZZE7CABTw54J+eumIjE00vNlkTsIAFPDng43HIRNOLTdbW8afjQSKaZgHbZGn9HIdMNL3YZE3AAhbw5IB/2XnlRiaaXmyyJmABC3hywCfikImmF5usrRPPxINENM0CtsnS+jUOmWh6scmagAUs4MkB//bsVRuZaHqxyZqABSzgyQGfjEMmml5ssrZOPhcPEtE0C9gmS+v3OMBMAobJAf/x/NUbMJOAYXLAp+IAM61TL8QDGGn9GQeYScAwOeC/XrxmA2YSMEwO+HQcYKZ1+qV4ACOtv+MAMwkYJgf8z8vXbsBMAobJAZ+JA8y0zrwSD2Ck9W8cYCYBw2D/A1wNymDh7wa+AAAAAElFTkSuQmCC',
};

export const types = [
  'text', 'richLink', 'list', 'buttons', 'timePicker', 'reaction', 'product', 'productList',
  'locationRequest', 'ctaUrl', 'template', 'auth', 'applePay', 'custom',
];

// native says which types each channel shows as such.
export const native = {
  whatsapp: new Set(['text', 'richLink', 'list', 'buttons', 'reaction', 'product', 'productList', 'locationRequest', 'ctaUrl', 'template']),
  apple: new Set(['text', 'richLink', 'list', 'buttons', 'timePicker', 'auth', 'applePay', 'custom']),
};

// slots returns a time picker's slots for the next two days, at whole
// hours in the event's zone (offset minutes east of UTC).
function slots(offset) {
  const day = new Date();
  day.setUTCHours(0, 0, 0, 0);
  const at = (days, hour) => new Date(day.getTime() + days * 86400000 + hour * 3600000 - offset * 60000)
    .toISOString().replace('.000Z', 'Z');
  return [
    { id: 'slot-1', start: at(1, 9), duration: 3600 },
    { id: 'slot-2', start: at(1, 11), duration: 3600 },
    { id: 'slot-3', start: at(1, 15), duration: 1800 },
    { id: 'slot-4', start: at(2, 10), duration: 3600 },
    { id: 'slot-5', start: at(2, 14), duration: 3600 },
  ];
}

const whatsapp = {
  text: () => ({ type: 'text', text: 'Hello from parley! Your table for 2 is booked for Friday 19:30.' }),
  richLink: () => ({ type: 'richLink', url: 'https://shop.example/p/walnut-cabinet', title: 'Walnut cabinet' }),
  list: () => ({
    type: 'list',
    header: { type: 'text', text: 'Delivery slots' },
    body: 'When should we deliver order 5521?',
    footer: 'Times are local',
    button: 'Pick a slot',
    sections: [
      { title: 'Tomorrow', items: [
        { id: 'slot:0900', title: '09:00–11:00', description: 'Morning van' },
        { id: 'slot:1400', title: '14:00–16:00' },
      ] },
      { title: 'Saturday', items: [
        { id: 'slot:sat-am', title: '10:00–12:00', description: 'Weekend fee applies' },
      ] },
    ],
  }),
  buttons: () => ({
    type: 'buttons',
    body: 'Your table for 2 is booked for Friday 19:30. Keep it?',
    footer: 'Reply within 24 hours',
    buttons: [
      { id: 'booking:8812:keep', title: 'Keep booking' },
      { id: 'booking:8812:move', title: 'Change time' },
      { id: 'booking:8812:cancel', title: 'Cancel' },
    ],
  }),
  reaction: (ctx) => ({ type: 'reaction', messageId: ctx.reactionTarget || 'msg_… (a message of this conversation)', emoji: '👍' }),
  product: () => ({ type: 'product', catalogId: '194836987003835', productId: 'sku-tee-blue-m', body: 'The one you asked about', footer: 'Free returns' }),
  productList: () => ({
    type: 'productList',
    catalogId: '194836987003835',
    header: { type: 'text', text: 'Summer picks' },
    body: "Three tees and a hat we think you'll like",
    sections: [
      { title: 'Tees', productIds: ['sku-tee-blue-m', 'sku-tee-red-m'] },
      { title: 'Hats', productIds: ['sku-hat-01'] },
    ],
  }),
  locationRequest: () => ({ type: 'locationRequest', body: 'Where should the driver pick you up? Share your location.' }),
  ctaUrl: () => ({
    type: 'ctaUrl',
    header: { type: 'text', text: 'Your receipt' },
    body: 'Tap below to open receipt R-2291 in your browser.',
    footer: 'Link valid 7 days',
    button: 'Open receipt',
    url: 'https://shop.example/r/2291',
  }),
  template: () => ({
    type: 'template',
    name: 'booking_reminder',
    language: 'en_GB',
    components: [
      { type: 'body', parameters: [{ type: 'text', text: 'Sam' }, { type: 'text', text: 'Friday 19:30' }] },
      { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'booking:8812:keep' }] },
      { type: 'button', sub_type: 'quick_reply', index: '1', parameters: [{ type: 'payload', payload: 'booking:8812:cancel' }] },
    ],
  }),
};

const apple = {
  text: () => ({ type: 'text', text: 'Hi, how can we help?' }),
  richLink: () => ({
    type: 'richLink', url: 'https://shop.example/p/walnut-cabinet', title: 'Walnut cabinet',
    image: { data: png.cabinet },
  }),
  list: () => ({
    type: 'list',
    body: 'Pick your produce',
    multipleSelection: true,
    bubble: { title: 'Pick your produce', subtitle: 'Tap to choose', imageId: 'apple', style: 'icon' },
    replyBubble: { title: 'Your produce' },
    images: [{ id: 'apple', data: png.apple }, { id: 'orange', data: png.orange }, { id: 'lettuce', data: png.lettuce }],
    sections: [
      { title: 'Fruit', items: [
        { id: 'sku-1', title: 'Apple', description: 'Red, crisp', imageId: 'apple' },
        { id: 'sku-2', title: 'Orange', description: 'Juicy', imageId: 'orange' },
      ] },
      { title: 'Vegetables', items: [{ id: 'sku-3', title: 'Lettuce', imageId: 'lettuce' }] },
    ],
  }),
  buttons: () => ({
    type: 'buttons',
    body: 'What can I help you with?',
    buttons: [
      { id: 'track', title: 'Track my order' },
      { id: 'return', title: 'Return an item' },
      { id: 'agent', title: 'Talk to someone' },
    ],
  }),
  timePicker: () => ({
    type: 'timePicker',
    title: 'Book a fitting',
    timezoneOffset: 60,
    location: { latitude: 48.8698, longitude: 2.3078, radius: 100, title: 'Rue du Faubourg store' },
    slots: slots(60),
    bubble: { title: 'Book a fitting', subtitle: 'Tap to pick a time' },
    replyBubble: { title: 'Fitting booked' },
  }),
  auth: () => ({
    type: 'auth',
    title: 'Sign in to Example Shop',
    oauth: { responseType: 'code', scope: ['profile', 'orders'], state: 'c3RhdGUtMTIzNDU2Nzg5MA' },
    bubble: { title: 'Sign in to Example Shop', subtitle: 'to see your orders', imageId: 'shop' },
    replyBubble: { title: 'You signed in' },
    images: [{ id: 'shop', data: png.shop }],
  }),
  applePay: () => ({
    type: 'applePay',
    title: 'Walnut cabinet',
    payment: {
      merchantName: 'Example Shop',
      countryCode: 'GB',
      currencyCode: 'GBP',
      lineItems: [{ label: 'Walnut cabinet', amount: '249.00', type: 'final' }, { label: 'Delivery', amount: '0.00', type: 'final' }],
      total: { label: 'Example Shop', amount: '249.00', type: 'final' },
      applePay: {
        merchantIdentifier: 'merchant.com.example.shop',
        supportedNetworks: ['amex', 'visa', 'masterCard'],
        merchantCapabilities: ['supports3DS', 'supportsDebit', 'supportsCredit'],
      },
    },
    bubble: { title: 'Walnut cabinet', subtitle: '£249.00 · Pay with Apple Pay', imageId: 'shop' },
    replyBubble: { title: 'Paid' },
    images: [{ id: 'shop', data: png.shop }],
  }),
  custom: () => ({
    type: 'custom',
    title: 'Your order',
    teamId: 'ABCDE12345',
    bundleId: 'com.example.shop.MessagesExtension',
    appId: 123456789,
    appName: 'Example Shop',
    image: { data: png.shop },
    url: '?orderId=991&step=track',
    bubble: { title: 'Your order', subtitle: 'Tap to track' },
  }),
};

const byChannel = { whatsapp, apple };

// example returns a request of POST /v1/messages sending a message of type
// on channel to ctx's conversation.
export function example(type, channel, ctx) {
  const own = byChannel[channel][type];
  const other = byChannel[channel === 'apple' ? 'whatsapp' : 'apple'][type];
  const req = { channel, businessId: ctx.businessId, to: ctx.to, message: (own || other)(ctx) };
  if (channel === 'whatsapp' && type === 'timePicker') {
    const m = req.message;
    delete m.bubble;
    delete m.replyBubble;
    req.adapt = true;
  }
  return req;
}

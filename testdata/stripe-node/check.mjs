// check.mjs runs Stripe's official Node client against a paypage server, the
// way a merchant would use it, and validates every object the client
// receives against Stripe's own schema (docs/stripe/checkout-session.schema.json).
// The client is configured with paypage's host, port and protocol, and
// nothing else.
//
// Environment:
//   PAYPAGE_URL          base URL of the server, http://127.0.0.1:PORT
//   PAYPAGE_KEY          a test-mode secret key of the merchant
//   PAYPAGE_SESSION_IDS  JSON object naming existing sessions of that
//                        merchant by state: {"open": "cs_test_…", "paid": …}.
//                        "recovered_child" must be the recovery of "expired".
//
// It prints one JSON line, {"checks": N, "failures": [{check, detail}],
// "violations": […]} (violations: every distinct schema violation seen, as
// "schema pointer: what is wrong", list indices as *), and exits 1 when any
// check failed.
// Run by handlers/api_stripe_node_test.go.

import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import Stripe from 'stripe';
import Ajv2020 from 'ajv/dist/2020.js';

const report = { checks: 0, failures: [], violations: [] };
const seenViolations = new Set();

function check(name, ok, detail = '') {
  report.checks++;
  if (!ok) report.failures.push({ check: name, detail: String(detail) });
  return ok;
}

// step runs one group of checks; a throw fails the group, not the run.
async function step(name, fn) {
  try {
    await fn();
  } catch (err) {
    check(name, false, `threw ${err?.type ?? err?.name}: ${err?.message}`);
  }
}

// --- Stripe's schema, translated from OpenAPI 3.0 to JSON Schema 2020-12
// exactly as handlers/stripeschema does it. ---

const file = new URL('../../docs/stripe/checkout-session.schema.json', import.meta.url);
const openapi = JSON.parse(readFileSync(file, 'utf8')).components.schemas;

function translate(node) {
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k.startsWith('x-')) continue;
    if (k === '$ref') out[k] = v.replace('#/components/schemas/', '#/$defs/');
    else if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, p]) => [name, translate(p)]));
    } else if ((k === 'items' || k === 'additionalProperties') && typeof v === 'object') out[k] = translate(v);
    else if (k === 'anyOf' || k === 'oneOf' || k === 'allOf') out[k] = v.map(translate);
    else out[k] = v;
  }
  return node.nullable === true ? nullable(out) : out;
}

function nullable(s) {
  const isNull = { type: 'null' };
  if (s.type !== undefined) {
    if (typeof s.type === 'string') s.type = [s.type, 'null'];
    if (Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
    return s;
  }
  if (s.anyOf) return { ...s, anyOf: [...s.anyOf, isNull] };
  if (s.$ref) return { anyOf: [{ $ref: s.$ref }, isNull] }; // a $ref's siblings are ignored in 3.0
  return s;
}

const defs = Object.fromEntries(Object.entries(openapi).map(([name, s]) => [name, translate(s)]));
const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true });
ajv.addFormat('currency', /^[a-z]{3}$/);
ajv.addFormat('decimal', /^-?[0-9]+(\.[0-9]+)?$/);
ajv.addFormat('unix-time', { type: 'number', validate: Number.isInteger });
ajv.addSchema({ $id: 'stripe', $defs: defs });
ajv.addSchema({
  $id: 'list',
  type: 'object',
  required: ['object', 'data', 'has_more', 'url'],
  properties: {
    object: { type: 'string', enum: ['list'] },
    data: { type: 'array' },
    has_more: { type: 'boolean' },
    url: { type: 'string', maxLength: 5000 },
  },
});

function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const resolve = (alt) => (alt.$ref ? defs[alt.$ref.slice('#/$defs/'.length)] : alt);

function typeFits(alt, v) {
  if (alt.type === undefined) return true;
  const types = [alt.type].flat();
  return types.includes(jsonType(v)) || (jsonType(v) === 'integer' && types.includes('number'));
}

// A product is not a deleted_product that lacks "deleted": an alternative is
// contradicted when the value lacks or differs in one of its single-valued
// enum properties (object, deleted).
function contradicted(alt, v) {
  if (jsonType(v) !== 'object' || !alt.properties) return false;
  return Object.entries(alt.properties).some(([k, p]) => p.enum?.length === 1 && v[k] !== p.enum[0]);
}

// explain turns ajv's errors into "pointer: what is wrong" lines. An anyOf
// (how nullable references are written) is explained by the alternatives
// that fit the value, so that a price with a null id reads
// "/price/id: got null, want string", not "/price must be null".
function explain(errors) {
  const below = (e, p) => e.instancePath === p || e.instancePath.startsWith(p + '/');
  const drop = new Set();
  const lines = [];
  for (const a of errors.filter((e) => e.keyword === 'anyOf')) {
    const p = a.instancePath;
    const alts = a.schema.map(resolve);
    const fits = alts.filter((alt) => typeFits(alt, a.data));
    const kept = fits.filter((alt) => !contradicted(alt, a.data));
    const chosen = kept.length ? kept : fits;
    const ruledOut = alts.filter((alt) => !chosen.includes(alt));
    const fromRuledOut = (e) =>
      ruledOut.some((alt) => e.parentSchema === alt || Object.values(alt.properties ?? {}).includes(e.parentSchema));
    drop.add(a);
    for (const e of errors) {
      if (e === a || !below(e, p)) continue;
      if ((e.instancePath === p && e.keyword === 'type') || fromRuledOut(e)) drop.add(e);
    }
    if (fits.length === 0) {
      const want = alts.map((alt) => [alt.type ?? 'any'].flat().join(' or ')).join(' or ');
      lines.push(`${p}: got ${jsonType(a.data)}, want ${want}`);
    }
  }
  for (const e of errors) {
    if (drop.has(e)) continue;
    const p = e.instancePath;
    switch (e.keyword) {
      case 'required':
        lines.push(`${p}/${e.params.missingProperty}: missing required property`);
        break;
      case 'enum':
        lines.push(`${p}: got ${JSON.stringify(e.data)}, want one of [${e.schema.map((v) => JSON.stringify(v)).join(', ')}]`);
        break;
      case 'type':
        lines.push(`${p}: got ${jsonType(e.data)}, want ${[e.schema].flat().join(' or ')}`);
        break;
      case 'format':
        lines.push(`${p}: ${JSON.stringify(e.data)} is not a valid ${e.schema}`);
        break;
      default:
        lines.push(`${p}: ${e.message}`);
    }
  }
  return [...new Set(lines)].map((l) => (l.startsWith(':') ? '(root)' + l : l)).sort();
}

function schemaViolations(schema, obj) {
  const validate = ajv.getSchema(schema === 'list' ? 'list' : `stripe#/$defs/${schema}`);
  return validate(obj) ? [] : explain(validate.errors);
}

// valid checks obj, as the client returned it, against a schema: a
// component name, or "list of X" for a list and its elements. The client
// turns decimal strings (unit_amount_decimal) into Decimal objects, which
// serialise back to the string they came from; so obj goes through JSON
// first, as the wire had it.
function valid(what, schema, received) {
  const obj = JSON.parse(JSON.stringify(received));
  const item = schema.startsWith('list of ') && schema.slice('list of '.length);
  const found = []; // [schema, violation, pointer of the object in the answer]
  const add = (name, value, at) => found.push(...schemaViolations(name, value).map((l) => [name, l, at]));
  if (item) {
    add('list', obj, '');
    (Array.isArray(obj?.data) ? obj.data : []).forEach((el, i) => add(item, el, `/data/${i}`));
  } else {
    add(schema, obj, '');
  }
  for (const [name, l] of found) {
    const general = `${name} ${l.replace(/\/data\/\d+\//g, '/data/*/')}`;
    if (!seenViolations.has(general)) {
      seenViolations.add(general);
      report.violations.push(general);
    }
  }
  const lines = found.map(([, l, at]) => (at && l.startsWith('(root)') ? at + l.slice('(root)'.length) : at + l));
  return check(`${what}: valid ${schema}`, lines.length === 0, lines.join('\n'));
}

// --- The client, as a merchant configures it for paypage. ---

const base = new URL(process.env.PAYPAGE_URL);
const connection = { host: base.hostname, port: Number(base.port), protocol: base.protocol.slice(0, -1) };
const stripe = new Stripe(process.env.PAYPAGE_KEY, connection);
const given = JSON.parse(process.env.PAYPAGE_SESSION_IDS);

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const random = (n) => Array.from({ length: n }, () => base62[randomInt(62)]).join('');
const run = random(8); // tells this run's sessions apart

function mug(ref, extra = {}) {
  return {
    mode: 'payment',
    line_items: [
      {
        quantity: 2,
        price_data: {
          currency: 'eur',
          unit_amount: 1250,
          product_data: { name: 'Mug', description: 'Stoneware, 300 ml', images: ['https://shop.example/mug.png'] },
        },
      },
    ],
    success_url: 'https://shop.example/ok?cs={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://shop.example/cart',
    client_reference_id: ref,
    ...extra,
  };
}

// expectError checks that promise fails with Stripe's typed error: its class,
// HTTP status and, where given, code and param.
async function expectError(what, promise, { cls, status, code, param }) {
  try {
    const got = await promise;
    check(`${what}: refused`, false, `succeeded: ${JSON.stringify(got).slice(0, 300)}`);
    return;
  } catch (err) {
    const want = { type: cls, statusCode: status, ...(code && { code }), ...(param && { param }) };
    const have = Object.fromEntries(Object.keys(want).map((k) => [k, err?.[k]]));
    check(
      `${what}: ${cls} ${status}${code ? ' ' + code : ''}${param ? ' param ' + param : ''}`,
      err instanceof Stripe.errors[cls] && Object.keys(want).every((k) => have[k] === want[k]),
      `got ${err?.type ?? err?.name} ${JSON.stringify(have)}: ${err?.message}`,
    );
    check(`${what}: message and request id`, !!err?.message && /^req_/.test(err?.requestId ?? ''),
      `message ${JSON.stringify(err?.message)}, requestId ${JSON.stringify(err?.requestId)}`);
  }
}

// The way Stripe itself reports paypage's states (issue 10): a declined
// attempt leaves the session open and unpaid, a payment still settling is
// complete and unpaid, refunds do not change the session. Canceled and
// no-payment-required sessions are held to the schema only.
const stripeState = {
  open: ['open', 'unpaid'],
  open_jpy: ['open', 'unpaid'],
  open_kwd: ['open', 'unpaid'],
  subscription: ['open', 'unpaid'],
  failed: ['open', 'unpaid'],
  processing: ['complete', 'unpaid'],
  paid: ['complete', 'paid'],
  partially_refunded: ['complete', 'paid'],
  refunded: ['complete', 'paid'],
  expired: ['expired', 'unpaid'],
  recovered_child: ['open', 'unpaid'],
};

// url is the hosted page's address while the session is open, null after.
function checkURL(what, s) {
  check(`${what}: url only while open`, s.status === 'open' ? typeof s.url === 'string' : s.url === null,
    `status ${s.status}, url ${JSON.stringify(s.url)}`);
}

await step('create', async () => {
  const expires = Math.floor(Date.now() / 1000) + 2 * 3600;
  const s = await stripe.checkout.sessions.create(
    mug(`order-${run}`, {
      line_items: [
        ...mug('').line_items,
        { quantity: 1, price_data: { currency: 'eur', unit_amount: 999, product_data: { name: 'Beans, 250 g' } } },
      ],
      customer_email: 'ada@example.com',
      locale: 'fr',
      metadata: { order: 'A-17', channel: 'web' },
      expires_at: expires,
      payment_method_types: ['card'],
      custom_text: { submit: { message: 'We ship in 2 days.' } },
      after_expiration: { recovery: { enabled: true } },
      expand: ['line_items'],
    }),
  );
  valid('create', 'checkout.session', s);
  check('create: decoded', s.object === 'checkout.session' && /^cs_test_/.test(s.id) && s.livemode === false &&
    s.status === 'open' && s.payment_status === 'unpaid' && s.mode === 'payment' && s.currency === 'eur' &&
    s.amount_subtotal === 3499 && s.amount_total === 3499 && s.client_reference_id === `order-${run}` &&
    s.customer_email === 'ada@example.com' && s.locale === 'fr' && s.expires_at === expires &&
    s.metadata?.order === 'A-17' && s.metadata?.channel === 'web' && s.custom_text?.submit?.message === 'We ship in 2 days.' &&
    s.after_expiration?.recovery?.enabled === true && s.success_url === 'https://shop.example/ok?cs={CHECKOUT_SESSION_ID}' &&
    typeof s.url === 'string', JSON.stringify(s).slice(0, 2000));
  const items = s.line_items?.data ?? [];
  check('create: expanded line items', items.length === 2 && items[0].description === 'Mug' && items[0].quantity === 2 &&
    items[0].amount_total === 2500 && items[0].price?.unit_amount === 1250 && /^price_/.test(items[0].price?.id ?? '') &&
    (typeof items[0].price?.product === 'string' ? /^prod_/.test(items[0].price.product) : /^prod_/.test(items[0].price?.product?.id ?? '')),
    JSON.stringify(s.line_items).slice(0, 1500));

  // Reads give the same price and product ids: they are stored, not made up.
  const again = await stripe.checkout.sessions.retrieve(s.id, { expand: ['line_items'] });
  valid('retrieve after create', 'checkout.session', again);
  const ids = (x) => (x.line_items?.data ?? []).map((li) => [li.price?.id, li.price?.product?.id ?? li.price?.product]);
  check('create: price and product ids stable', JSON.stringify(ids(again)) === JSON.stringify(ids(s)),
    `${JSON.stringify(ids(s))} then ${JSON.stringify(ids(again))}`);
});

await step('create subscription', async () => {
  const s = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 900, recurring: { interval: 'month' },
      product_data: { name: 'Coffee club' } } }],
    success_url: 'https://shop.example/ok',
    expand: ['line_items'],
  });
  valid('create subscription', 'checkout.session', s);
  const price = s.line_items?.data?.[0]?.price;
  check('create subscription: recurring price', s.mode === 'subscription' && price?.type === 'recurring' &&
    price?.recurring?.interval === 'month' && price?.recurring?.interval_count === 1, JSON.stringify(price));
});

await step('create with ui_mode', async () => {
  const s = await stripe.checkout.sessions.create(mug(`ui-${run}`, { ui_mode: 'hosted_page' }));
  valid('create with ui_mode hosted_page', 'checkout.session', s);
  check('create with ui_mode hosted_page: echoed', s.ui_mode === 'hosted_page', `ui_mode ${JSON.stringify(s.ui_mode)}`);
});

await step('retrieve given sessions', async () => {
  for (const [state, id] of Object.entries(given)) {
    const plain = await stripe.checkout.sessions.retrieve(id);
    valid(`retrieve ${state}`, 'checkout.session', plain);
    check(`retrieve ${state}: same id, no line items unless expanded`, plain.id === id && plain.line_items === undefined,
      `id ${plain.id}, line_items ${JSON.stringify(plain.line_items)?.slice(0, 100)}`);
    checkURL(`retrieve ${state}`, plain);
    if (stripeState[state]) {
      const [status, payment] = stripeState[state];
      check(`retrieve ${state}: status ${status}, payment_status ${payment}`,
        plain.status === status && plain.payment_status === payment, `got ${plain.status}, ${plain.payment_status}`);
    }
    if (state === 'recovered_child' && given.expired) {
      check('retrieve recovered_child: recovered_from the expired session', plain.recovered_from === given.expired,
        `recovered_from ${JSON.stringify(plain.recovered_from)}, want ${given.expired}`);
    }
    const expanded = await stripe.checkout.sessions.retrieve(id, { expand: ['line_items'] });
    valid(`retrieve ${state} expand line_items`, 'checkout.session', expanded);
    check(`retrieve ${state} expand line_items: a list`, expanded.line_items?.object === 'list' &&
      expanded.line_items?.data?.length > 0, JSON.stringify(expanded.line_items)?.slice(0, 300));
    const items = await stripe.checkout.sessions.listLineItems(id, { limit: 100 });
    valid(`line items of ${state}`, 'list of item', items);
  }
});

// Twelve sessions, newest last; the list answers newest first.
const batch = [];
await step('create twelve', async () => {
  for (let i = 0; i < 12; i++) {
    const s = await stripe.checkout.sessions.create(mug(`batch-${run}-${i}`));
    valid(`create batch ${i}`, 'checkout.session', s);
    batch.push(s.id);
  }
  check('create twelve: distinct ids', new Set(batch).size === 12, batch.join(' '));
});

await step('list', async () => {
  const page = await stripe.checkout.sessions.list({ limit: 3 });
  valid('list limit 3', 'list of checkout.session', page);
  check('list limit 3: a first page of three', page.object === 'list' && page.data?.length === 3 &&
    page.has_more === true && page.url === '/v1/checkout/sessions',
    `object ${page.object}, ${page.data?.length} sessions, has_more ${page.has_more}, url ${page.url}`);

  // Page by page, as the client's auto-pagination does it.
  const paged = [];
  let next = { limit: 3 };
  for (let n = 0; n < 100; n++) {
    const p = await stripe.checkout.sessions.list(next);
    valid(`list page ${n}`, 'list of checkout.session', p);
    paged.push(...p.data.map((s) => s.id));
    if (!p.has_more) break;
    next = { limit: 3, starting_after: p.data.at(-1).id };
  }

  // Every page was validated above; the first sessions are again, as the
  // iterator hands them out.
  const auto = [];
  for await (const s of stripe.checkout.sessions.list({ limit: 3 })) {
    if (auto.length < 20) valid(`auto-paginated session ${auto.length}`, 'checkout.session', s);
    auto.push(s.id);
    if (auto.length > 1000) break;
  }
  check('auto-pagination: no session twice', new Set(auto).size === auto.length, `${auto.length} ids`);
  check('auto-pagination: the same sessions as page by page', JSON.stringify(auto) === JSON.stringify(paged),
    `auto ${auto.length}, paged ${paged.length}`);
  const order = auto.filter((id) => batch.includes(id));
  check('auto-pagination: every created session, newest first', JSON.stringify(order) === JSON.stringify([...batch].reverse()),
    `got ${order.join(' ')}`);
  check('auto-pagination: the given sessions too', Object.values(given).every((id) => auto.includes(id)),
    `missing ${Object.entries(given).filter(([, id]) => !auto.includes(id)).map(([s]) => s).join(', ')}`);

  if (auto.length > 6) {
    const before = await stripe.checkout.sessions.list({ limit: 3, ending_before: auto[5] });
    valid('list ending_before', 'list of checkout.session', before);
    check('list ending_before: the three newer ones', JSON.stringify(before.data.map((s) => s.id)) === JSON.stringify(auto.slice(2, 5)),
      `got ${before.data.map((s) => s.id).join(' ')}, want ${auto.slice(2, 5).join(' ')}`);
  }

  const withItems = await stripe.checkout.sessions.list({ limit: 5, expand: ['data.line_items'] });
  valid('list expand data.line_items', 'list of checkout.session', withItems);
  check('list expand data.line_items: every session has its items', withItems.data.length === 5 &&
    withItems.data.every((s) => s.line_items?.object === 'list' && s.line_items.data.length > 0),
    JSON.stringify(withItems.data.map((s) => s.line_items?.data?.length)));

  const open = await stripe.checkout.sessions.list({ limit: 100, status: 'open' });
  valid('list status open', 'list of checkout.session', open);
  check('list status open: open sessions only', open.data.length >= 12 && open.data.every((s) => s.status === 'open'),
    JSON.stringify(open.data.map((s) => s.status)));
});

await step('list line items', async () => {
  const names = ['Mug', 'Beans', 'Filter papers'];
  const s = await stripe.checkout.sessions.create(mug(`items-${run}`, {
    line_items: names.map((name, i) => ({ quantity: i + 1, price_data: { currency: 'eur', unit_amount: 100 * (i + 1), product_data: { name } } })),
  }));
  valid('create three items', 'checkout.session', s);
  const page = await stripe.checkout.sessions.listLineItems(s.id, { limit: 1 });
  valid('line items limit 1', 'list of item', page);
  check('line items limit 1: a first page of one', page.data?.length === 1 && page.has_more === true &&
    page.url === `/v1/checkout/sessions/${s.id}/line_items`, `${page.data?.length} items, has_more ${page.has_more}, url ${page.url}`);
  const seen = [];
  for await (const li of stripe.checkout.sessions.listLineItems(s.id, { limit: 1 })) {
    valid(`auto-paginated line item ${seen.length}`, 'item', li);
    seen.push(li.description);
    if (seen.length > 10) break;
  }
  check('line items auto-pagination: all three, in order', JSON.stringify(seen) === JSON.stringify(names), JSON.stringify(seen));
});

await step('expire', async () => {
  const s = await stripe.checkout.sessions.create(mug(`expire-${run}`));
  const expired = await stripe.checkout.sessions.expire(s.id);
  valid('expire', 'checkout.session', expired);
  check('expire: expired', expired.id === s.id && expired.status === 'expired', `status ${expired.status}`);
  checkURL('expire', expired);
  const read = await stripe.checkout.sessions.retrieve(s.id);
  valid('retrieve expired', 'checkout.session', read);
  check('retrieve expired: expired', read.status === 'expired', `status ${read.status}`);
  await expectError('expire twice', stripe.checkout.sessions.expire(s.id), { cls: 'StripeInvalidRequestError', status: 400 });
});

await step('idempotency', async () => {
  const key = `check-${run}`;
  const first = await stripe.checkout.sessions.create(mug(`idem-${run}`), { idempotencyKey: key });
  valid('idempotent create', 'checkout.session', first);
  const second = await stripe.checkout.sessions.create(mug(`idem-${run}`), { idempotencyKey: key });
  valid('idempotent replay', 'checkout.session', second);
  check('idempotency: same key, same session', second.id === first.id, `${first.id} then ${second.id}`);
  check('idempotency: the replay says so', second.lastResponse?.headers?.['idempotent-replayed'] === 'true',
    `Idempotent-Replayed ${JSON.stringify(second.lastResponse?.headers?.['idempotent-replayed'])}`);
  await expectError('same key, another body', stripe.checkout.sessions.create(mug(`other-${run}`), { idempotencyKey: key }),
    { cls: 'StripeIdempotencyError', status: 400 });
});

await step('typed errors', async () => {
  const missing = { cls: 'StripeInvalidRequestError', status: 404, code: 'resource_missing' };
  const unknown = `cs_test_${random(32)}`;
  await expectError('retrieve unknown id', stripe.checkout.sessions.retrieve(unknown), missing);
  await expectError('retrieve id of another shape', stripe.checkout.sessions.retrieve('sess_12345'), missing);
  await expectError('expire unknown id', stripe.checkout.sessions.expire(unknown), missing);
  await expectError('line items of unknown id', stripe.checkout.sessions.listLineItems(unknown), missing);

  const stranger = new Stripe(`sk_test_${random(40)}`, connection);
  await expectError('unknown key', stranger.checkout.sessions.list({ limit: 1 }), { cls: 'StripeAuthenticationError', status: 401 });

  const noItems = mug(`none-${run}`);
  delete noItems.line_items;
  await expectError('create without line items', stripe.checkout.sessions.create(noItems),
    { cls: 'StripeInvalidRequestError', status: 400, param: 'line_items' });
  const colour = mug(`colour-${run}`);
  colour.line_items[0].colour = 'red';
  await expectError('unknown parameter', stripe.checkout.sessions.create(colour),
    { cls: 'StripeInvalidRequestError', status: 400, code: 'parameter_unknown', param: 'line_items[0][colour]' });
  await expectError('invalid locale', stripe.checkout.sessions.create(mug(`klingon-${run}`, { locale: 'klingon' })),
    { cls: 'StripeInvalidRequestError', status: 400, param: 'locale' });
});

report.violations.sort();
// A pipe takes stdout asynchronously: exit once the report is written.
process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(report.failures.length ? 1 : 0));

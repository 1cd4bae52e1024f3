// Verifies one paypage webhook delivery with Stripe's Node library, used as
// its documentation shows, and prints what it read:
//   node verify.cjs PAYLOAD_FILE STRIPE_SIGNATURE SECRET
// Exits non-zero (with the library's message) when verification fails.
const fs = require("fs");
const Stripe = require("stripe");

const [payloadFile, header, secret] = process.argv.slice(2);
const stripe = new Stripe("sk_test_unused");
const event = stripe.webhooks.constructEvent(fs.readFileSync(payloadFile), header, secret);
process.stdout.write(JSON.stringify({ id: event.id, type: event.type, object: event.data.object.id }));

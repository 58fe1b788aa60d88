// Drives direct conversations (with the `direct` stream's conversation
// event), scheduled statuses and announcements through masto.js against a
// Perch server, signed in as masto.mjs signs in: an app, then the password
// grant, for the account given and for PERCH_TEST_OTHER. Run by
// crates/perch_server/tests/it/client_libraries.rs, which publishes an
// announcement with `perch announcement add` first; by hand:
//
//   PERCH_TEST_OTHER=bea PERCH_TEST_OTHER_PASSWORD='…' \
//     node masto-conversations.mjs http://127.0.0.1:8080 alice 'a long passphrase'
//
// On success it prints one JSON line with what it saw and exits 0; on any
// failure it prints the error and exits 1. Every request goes through the
// library's own HTTP and WebSocket code.

import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

const [url, login, password] = [
  process.argv[2] ?? process.env.PERCH_TEST_URL,
  process.argv[3] ?? process.env.PERCH_TEST_LOGIN,
  process.argv[4] ?? process.env.PERCH_TEST_PASSWORD,
];
const other = process.env.PERCH_TEST_OTHER;
const otherPassword = process.env.PERCH_TEST_OTHER_PASSWORD;
const SCOPES = "read write follow push";
const OOB = "urn:ietf:wg:oauth:2.0:oob";
const TIMEOUT_MS = 20_000;

function check(condition, message) {
  if (!condition) throw new Error(`unexpected response: ${message}`);
}

function describe(error) {
  const status = error?.statusCode ? ` (HTTP ${error.statusCode})` : "";
  const details = error?.description ? `: ${error.description}` : "";
  const cause = error?.cause instanceof Error ? `\ncaused by: ${error.cause.stack}` : "";
  return `${error?.stack ?? error}${status}${details}${cause}`;
}

/// A REST client and the token of `username`, signed in through `app`.
async function signIn(oauth, app, username, secret) {
  const token = await oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
    username,
    password: secret,
  });
  check(typeof token.accessToken === "string" && token.accessToken, "token without access_token");
  const client = createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
  return { client, token: token.accessToken };
}

/// The next value of `events` within two seconds, or null.
function soon(next) {
  return Promise.race([next, new Promise((resolve) => setTimeout(resolve, 2_000, null))]);
}

async function conversations(alice, bea, streamingUrl, beaToken) {
  const seen = {};
  const streaming = createStreamingAPIClient({ streamingApiUrl: streamingUrl, accessToken: beaToken });
  const events = streaming.direct.subscribe().values();
  let next = events.next();
  // The subscription frame may still be on its way when the first direct
  // status goes: reply in the same thread until the event arrives.
  let root = null;
  let last = null;
  let live = null;
  for (let attempt = 0; attempt < 10 && !live; attempt += 1) {
    last = await alice.v1.statuses.create({
      status: `@${other} psst ${attempt}`,
      visibility: "direct",
      inReplyToId: root?.id ?? null,
    });
    root ??= last;
    const waited = await soon(next);
    if (waited) live = waited.value;
  }
  streaming.close();
  check(live, "no conversation event");
  seen.event = [live.stream, live.event];
  seen.event_conversation = {
    id_is_string: typeof live.payload.id === "string",
    unread: live.payload.unread,
    accounts: live.payload.accounts.map((a) => a.username),
    last_status_is_posted: live.payload.lastStatus?.id === last.id,
  };

  const listed = await bea.v1.conversations.list({ limit: 5 });
  seen.listed = listed.map((c) => [c.unread, c.accounts.map((a) => a.username), c.lastStatus?.id === last.id]);
  seen.same_as_event = listed[0]?.id === live.payload.id;
  const own = await alice.v1.conversations.list();
  seen.own = own.map((c) => [c.unread, c.accounts.map((a) => a.username)]);
  const read = await bea.v1.conversations.$select(listed[0].id).read();
  seen.read = read.unread;
  await bea.v1.conversations.$select(listed[0].id).remove();
  seen.after_remove = (await bea.v1.conversations.list()).length;
  seen.own_after = (await alice.v1.conversations.list()).length;
  return seen;
}

async function scheduled(alice) {
  const seen = {};
  const when = new Date(Date.now() + 3_600_000).toISOString();
  const made = await alice.v1.statuses.create({
    status: "later, from masto.js",
    scheduledAt: when,
    visibility: "unlisted",
  });
  seen.made = {
    id_is_string: typeof made.id === "string",
    scheduled_at: made.scheduledAt === when,
    text: made.params?.text,
    visibility: made.params?.visibility,
    media: made.mediaAttachments,
  };
  seen.listed = (await alice.v1.scheduledStatuses.list()).map((s) => s.id === made.id);
  const moved = new Date(Date.now() + 7_200_000).toISOString();
  const updated = await alice.v1.scheduledStatuses.$select(made.id).update({ scheduledAt: moved });
  seen.moved = updated.scheduledAt === moved;
  seen.fetched = (await alice.v1.scheduledStatuses.$select(made.id).fetch()).scheduledAt === moved;
  let tooSoon = null;
  try {
    await alice.v1.statuses.create({
      status: "too soon",
      scheduledAt: new Date(Date.now() + 60_000).toISOString(),
    });
  } catch (error) {
    tooSoon = error?.statusCode ?? String(error);
  }
  seen.too_soon = tooSoon;
  await alice.v1.scheduledStatuses.$select(made.id).remove();
  seen.after_remove = (await alice.v1.scheduledStatuses.list()).length;
  return seen;
}

async function announcements(alice) {
  const seen = {};
  const listed = await alice.v1.announcements.list();
  seen.listed = listed.map((a) => [a.content, a.read, a.reactions.length]);
  const [first] = listed;
  await alice.v1.announcements.$select(first.id).dismiss();
  seen.read_after = (await alice.v1.announcements.list())[0].read;
  await alice.v1.announcements.$select(first.id).reactions.$select("👍").update();
  seen.reactions = (await alice.v1.announcements.list())[0].reactions.map((r) => [r.name, r.count, r.me]);
  await alice.v1.announcements.$select(first.id).reactions.$select("👍").remove();
  seen.reactions_after = (await alice.v1.announcements.list())[0].reactions.length;
  return seen;
}

async function main() {
  if (!url || !login || !password || !other || !otherPassword) {
    throw new Error(
      "usage: PERCH_TEST_OTHER=… PERCH_TEST_OTHER_PASSWORD=… node masto-conversations.mjs BASE_URL LOGIN PASSWORD",
    );
  }
  const anonymous = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js conversations test",
    redirectUris: OOB,
    scopes: SCOPES,
  });
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  const alice = await signIn(oauth, app, login, password);
  const bea = await signIn(oauth, app, other, otherPassword);
  const v2 = await anonymous.v2.instance.fetch();

  console.log(
    JSON.stringify({
      library: "masto",
      conversations: await conversations(alice.client, bea.client, v2.configuration.urls.streaming, bea.token),
      scheduled: await scheduled(alice.client),
      announcements: await announcements(alice.client),
    }),
  );
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`masto.js against ${url}: ${describe(error)}`);
  process.exit(1);
}

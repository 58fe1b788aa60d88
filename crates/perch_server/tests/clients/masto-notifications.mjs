// Drives grouped notifications, the notification policy and notification
// requests on a Perch server through masto.js, a widely used Mastodon
// client library, as Mastodon 4.3 apps use them. Run by
// crates/perch_server/tests/it/client_libraries.rs; by hand:
//
//   PERCH_TEST_OTHER=bea PERCH_TEST_THIRD=cy PERCH_TEST_OTHER_PASSWORD='…' \
//     node masto-notifications.mjs http://127.0.0.1:8080 alice 'a long passphrase'
//
// The signed-in account (alice) is liked, reblogged, followed and mentioned
// by the other (bea), reads that grouped, page by page, then filters those
// it does not follow and answers the requests of bea and a third account
// (cy). On success it prints one JSON line with what it read and exits 0;
// on any failure it prints the error and exits 1.
//
// Every request goes through the library's own HTTP code: nothing here
// talks HTTP by hand.

import { createOAuthAPIClient, createRestAPIClient } from "masto";

const [url, login, password] = [
  process.argv[2] ?? process.env.PERCH_TEST_URL,
  process.argv[3] ?? process.env.PERCH_TEST_LOGIN,
  process.argv[4] ?? process.env.PERCH_TEST_PASSWORD,
];
const other = process.env.PERCH_TEST_OTHER;
const third = process.env.PERCH_TEST_THIRD;
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
  return `${error?.stack ?? error}${status}${details}`;
}

/// A client signed in as `username` with the password grant, as masto.mjs
/// signs in.
async function signIn(app, username, secret) {
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  const token = await oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
    username,
    password: secret,
  });
  return createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
}

async function main() {
  if (!url || !login || !password || !other || !third || !otherPassword) {
    throw new Error(
      "usage: PERCH_TEST_OTHER=… PERCH_TEST_THIRD=… PERCH_TEST_OTHER_PASSWORD=… " +
        "node masto-notifications.mjs BASE_URL LOGIN PASSWORD",
    );
  }
  const anonymous = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js notifications test",
    redirectUris: OOB,
    scopes: SCOPES,
  });
  const alice = await signIn(app, login, password);
  const bea = await signIn(app, other, otherPassword);
  const cy = await signIn(app, third, otherPassword);
  const me = await alice.v1.accounts.verifyCredentials();

  // bea likes, reblogs, follows, then mentions alice.
  const post = await alice.v1.statuses.create({ status: "grouped by masto.js" });
  await bea.v1.statuses.$select(post.id).favourite();
  await bea.v1.statuses.$select(post.id).reblog();
  await bea.v1.accounts.$select(me.id).follow();
  const mention = await bea.v1.statuses.create({ status: `@${login} hello from masto.js` });

  // Grouped, two groups a page: the library follows the Link headers.
  const pages = [];
  for await (const page of alice.v2.notifications.list({ limit: 2 })) {
    check(Array.isArray(page.accounts) && Array.isArray(page.statuses), "a page without lists");
    pages.push(page.notificationGroups.map((group) => group.type));
    if (pages.length >= 3) break;
  }
  const all = await alice.v2.notifications.list({ expandAccounts: "partial_avatars" });
  const likes = all.notificationGroups.find((group) => group.type === "favourite");
  check(likes && typeof likes.mostRecentNotificationId === "string", "no favourite group");
  const mentioned = all.notificationGroups.find((group) => group.type === "mention");
  const onlyFollows = await alice.v2.notifications.list({ groupedTypes: ["follow"] });

  const grouped = {
    pages,
    key_prefix: likes.groupKey.startsWith(`favourite-${post.id}-`),
    count: likes.notificationsCount,
    samples: likes.sampleAccountIds,
    status_listed: all.statuses.some((status) => status.id === post.id),
    mention_status: mentioned?.statusId === mention.id,
    accounts: all.accounts.map((account) => account.username),
    ungrouped_keys: onlyFollows.notificationGroups
      .filter((group) => group.type === "favourite")
      .map((group) => group.groupKey.startsWith("ungrouped-")),
  };
  const one = await alice.v2.notifications.$select(likes.groupKey).fetch();
  grouped.one = one.notificationGroups.map((group) => [group.groupKey === likes.groupKey, group.type]);
  grouped.group_accounts = (await alice.v2.notifications.$select(likes.groupKey).accounts.fetch()).map(
    (account) => account.username,
  );
  grouped.unread = (await alice.v2.notifications.unreadCount.fetch()).count;
  await alice.v2.notifications.$select(likes.groupKey).dismiss();
  grouped.after_dismiss = (await alice.v2.notifications.list()).notificationGroups.map((group) => group.type);

  // The policy, in its v2 form and in the v1 form old apps use.
  const policy = {};
  const initial = await alice.v2.notifications.policy.fetch();
  policy.initial = [initial.forNotFollowing, initial.forLimitedAccounts];
  const updated = await alice.v2.notifications.policy.update({ forNotFollowing: "filter" });
  policy.updated = updated.forNotFollowing;
  const v1 = await alice.v1.notifications.policy.fetch();
  policy.v1 = [v1.filterNotFollowing, v1.filterPrivateMentions];
  const v1Updated = await alice.v1.notifications.policy.update({ filterPrivateMentions: true });
  policy.v1_updated = v1Updated.filterPrivateMentions;

  // bea and cy, whom alice does not follow, mention her: two requests.
  await bea.v1.statuses.create({ status: `@${login} filtered from masto.js` });
  await cy.v1.statuses.create({ status: `@${login} also filtered` });
  const requests = {};
  const listed = await alice.v1.notifications.requests.list();
  requests.listed = listed.map((request) => [request.account.username, request.notificationsCount]);
  requests.summary = (await alice.v2.notifications.policy.fetch()).summary;
  const beaRequest = listed.find((request) => request.account.username === other);
  const cyRequest = listed.find((request) => request.account.username === third);
  const fetched = await alice.v1.notifications.requests.$select(beaRequest.id).fetch();
  requests.fetched = [fetched.id === beaRequest.id, typeof fetched.lastStatus?.id === "string"];
  requests.hidden = (await alice.v1.notifications.list()).filter((n) => n.status?.content?.includes("filtered")).length;
  await alice.v1.notifications.requests.$select(beaRequest.id).accept();
  requests.merged = (await alice.v1.notifications.requests.merged.fetch()).merged;
  requests.dismissed_one = (await alice.v1.notifications.requests.$select(cyRequest.id).dismiss()) ?? null;
  requests.after = (await alice.v1.notifications.requests.list()).length;
  requests.merged_in = (await alice.v1.notifications.list()).some((n) =>
    n.status?.content?.includes("filtered from masto.js"),
  );
  // The forms for many at once.
  await cy.v1.statuses.create({ status: `@${login} once more` });
  const again = await alice.v1.notifications.requests.list();
  await alice.v1.notifications.requests.accept({ id: again.map((request) => request.id) });
  requests.accepted_many = (await alice.v1.notifications.requests.list()).length;
  await alice.v1.notifications.requests.dismiss({ id: ["1"] });

  console.log(JSON.stringify({ library: "masto", grouped, policy, requests }));
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`masto.js against ${url}: ${describe(error)}`);
  process.exit(1);
}

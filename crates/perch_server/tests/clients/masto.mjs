// Signs in to a Perch server with masto.js, a widely used Mastodon client
// library, reads the account and the instance through it, and drives the
// everyday API (posting, timelines, moderation, bookmarks, lists, markers,
// preferences, search) with another account when one is given. Run by
// crates/perch_server/tests/it/client_libraries.rs; by hand:
//
//   node masto.mjs http://127.0.0.1:8080 alice 'a long passphrase'
//
// Arguments may instead come from PERCH_TEST_URL, PERCH_TEST_LOGIN (a
// username or an email) and PERCH_TEST_PASSWORD. On success it prints one
// JSON line with what it read and exits 0; on any failure it prints the
// error and exits 1.
//
// Every request goes through the library's own HTTP code (its fetch-based
// adapter, its request encoding and its response parsing): nothing here
// talks HTTP by hand.

import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

const [url, login, password] = [
  process.argv[2] ?? process.env.PERCH_TEST_URL,
  process.argv[3] ?? process.env.PERCH_TEST_LOGIN,
  process.argv[4] ?? process.env.PERCH_TEST_PASSWORD,
];
// Another local account's username, to block and mute (optional), and its
// password, to vote in a poll as it (optional).
const other = process.env.PERCH_TEST_OTHER || null;
const otherPassword = process.env.PERCH_TEST_OTHER_PASSWORD || null;
const SCOPES = "read write follow push admin:read admin:write";
const OOB = "urn:ietf:wg:oauth:2.0:oob";
const TIMEOUT_MS = 20_000;

function check(condition, message) {
  if (!condition) throw new Error(`unexpected response: ${message}`);
}

function describe(error) {
  // MastoHttpError carries the status and the server's error fields.
  const status = error?.statusCode ? ` (HTTP ${error.statusCode})` : "";
  const details = error?.description ? `: ${error.description}` : "";
  const cause = error?.cause instanceof Error ? `\ncaused by: ${error.cause.stack}` : "";
  return `${error?.stack ?? error}${status}${details}${cause}`;
}

async function main() {
  if (!url || !login || !password) {
    throw new Error("usage: node masto.mjs BASE_URL LOGIN PASSWORD");
  }

  // Anonymous client: registers the app and reads the public instance.
  const anonymous = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js acceptance test",
    redirectUris: OOB,
    scopes: SCOPES,
    website: "https://github.com/neet/masto.js",
  });
  check(typeof app.clientId === "string" && app.clientId, "app without client_id");
  check(typeof app.clientSecret === "string" && app.clientSecret, "app without client_secret");

  // The password grant, through the library's OAuth client.
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  const token = await oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
    username: login,
    password,
  });
  check(typeof token.accessToken === "string" && token.accessToken, "token without access_token");
  check(
    typeof token.tokenType === "string" && token.tokenType.toLowerCase() === "bearer",
    `token_type ${token.tokenType}`,
  );

  const client = createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
  const account = await client.v1.accounts.verifyCredentials();
  check(typeof account.id === "string", "account id is not a string");
  check(typeof account.username === "string", "account without username");
  check(account.source && typeof account.source === "object", "credential account without source");
  const application = await client.v1.apps.verifyCredentials();

  const v1 = await anonymous.v1.instance.fetch();
  const v2 = await anonymous.v2.instance.fetch();
  check(typeof v1.uri === "string", "v1 instance without uri");
  check(typeof v2.domain === "string", "v2 instance without domain");

  // Posting, liking and paging the home timeline through the library: its
  // paginator follows the Link headers, one status per page.
  const first = await client.v1.statuses.create({ status: "first from masto.js" });
  const second = await client.v1.statuses.create({
    status: "second from masto.js",
    inReplyToId: first.id,
    visibility: "unlisted",
  });
  check(second.inReplyToId === first.id, "the reply lost its parent");
  const liked = await client.v1.statuses.$select(first.id).favourite();
  check(liked.favourited === true && liked.favouritesCount === 1, "favourite not counted");
  const paged = [];
  for await (const page of client.v1.timelines.home.list({ limit: 1 })) {
    paged.push(...page.map((status) => status.id));
    if (paged.length >= 3) break;
  }
  const context = await client.v1.statuses.$select(first.id).context.fetch();

  // A poll through the library: posted, voted in by the other account
  // (signed in the same way), read back, and refused on one's own poll.
  let poll = null;
  if (other && otherPassword) {
    const asked = await client.v1.statuses.create({
      status: "tea or coffee? from masto.js",
      visibility: "unlisted",
      poll: { options: ["tea", "coffee"], expiresIn: 3600 },
    });
    const voterToken = await oauth.token.create({
      grantType: "password",
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: OOB,
      scope: SCOPES,
      username: other,
      password: otherPassword,
    });
    const voter = createRestAPIClient({ url, accessToken: voterToken.accessToken, timeout: TIMEOUT_MS });
    const voted = await voter.v1.polls.$select(asked.poll.id).votes.create({ choices: [1] });
    const fetched = await client.v1.polls.$select(asked.poll.id).fetch();
    let ownVote = null;
    try {
      await client.v1.polls.$select(asked.poll.id).votes.create({ choices: [0] });
    } catch (error) {
      if (!error?.statusCode) throw error;
      ownVote = error.statusCode;
    }
    poll = {
      options: asked.poll.options.map((option) => option.title),
      ends: typeof asked.poll.expiresAt === "string" && asked.poll.expired === false,
      own_votes: voted.ownVotes,
      votes: fetched.options.map((option) => option.votesCount),
      voters: fetched.votersCount,
      own_vote: ownVote,
    };
  }

  // Keeping others away: a block, a mute, a server blocked and a muted
  // conversation, each through the library's own call.
  let kept = null;
  if (other) {
    const target = await client.v1.accounts.lookup({ acct: other });
    const targeted = client.v1.accounts.$select(target.id);
    kept = {};
    kept.blocked = (await targeted.block()).blocking;
    kept.listed_blocked = (await client.v1.blocks.list()).some((a) => a.id === target.id);
    kept.unblocked = (await targeted.unblock()).blocking === false;
    const muted = await targeted.mute({ notifications: false, duration: 3600 });
    kept.muted = muted.muting;
    kept.muting_notifications = muted.mutingNotifications;
    kept.listed_muted = (await client.v1.mutes.list()).some((a) => a.id === target.id);
    const [relationship] = await client.v1.accounts.relationships.fetch({ id: [target.id] });
    kept.relationship_muting = relationship.muting;
    kept.unmuted = (await targeted.unmute()).muting === false;
    await client.v1.domainBlocks.create({ domain: "spam.example" });
    kept.domain_blocks = await client.v1.domainBlocks.list();
    await client.v1.domainBlocks.remove({ domain: "spam.example" });
    kept.domain_blocks_after = await client.v1.domainBlocks.list();
    kept.conversation_muted = (await client.v1.statuses.$select(first.id).mute()).muted;
    kept.conversation_unmuted = (await client.v1.statuses.$select(first.id).unmute()).muted === false;

    // A report, and the moderator's side (the signed-in user is an admin):
    // the reports queue, and an action on the account and its undoing.
    const report = await client.v1.reports.create({
      accountId: target.id,
      comment: "spam from masto.js",
      category: "spam",
    });
    kept.reported = report.targetAccount.id === target.id && report.category === "spam";
    const queued = await client.v1.admin.reports.list();
    kept.queued = queued.some((r) => r.id === report.id);
    const handled = client.v1.admin.reports.$select(report.id);
    kept.assigned = (await handled.assignToSelf()).assignedAccount?.id === account.id;
    kept.resolved = (await handled.resolve()).actionTaken;
    kept.reopened = (await handled.reopen()).actionTaken === false;
    const moderated = client.v1.admin.accounts.$select(target.id);
    await moderated.action.create({ type: "silence", reportId: report.id });
    kept.silenced = (await moderated.fetch()).silenced;
    kept.unsilenced = (await moderated.unsilence()).silenced === false;
    kept.listed_silenced = (await client.v1.admin.accounts.list({ silenced: true })).length;

    // The instance's blocks of servers, and its allow-list.
    const blocked = await client.v1.admin.domainBlocks.create({
      domain: "spam.example",
      severity: "suspend",
      rejectReports: true,
    });
    kept.domain_block = [blocked.domain, blocked.severity, blocked.rejectReports];
    const changed = await client.v1.admin.domainBlocks.$select(blocked.id).update({ severity: "silence" });
    kept.domain_block_changed = changed.severity;
    kept.domain_blocks_listed = (await client.v1.admin.domainBlocks.list()).map((b) => b.domain);
    await client.v1.admin.domainBlocks.$select(blocked.id).remove();
    kept.domain_blocks_left = (await client.v1.admin.domainBlocks.list()).length;
    const allowed = await client.v1.admin.domainAllows.create({ domain: "friends.example" });
    kept.domain_allowed = (await client.v1.admin.domainAllows.$select(allowed.id).fetch()).domain;
    await client.v1.admin.domainAllows.$select(allowed.id).remove();
    kept.domain_allows_left = (await client.v1.admin.domainAllows.list()).length;
  }
  // Everyday reading: bookmarks, a list of a followed account with its
  // timeline paged by the library, the notifications marker and the
  // unread count, preferences, account search, several statuses at once
  // and a private note. The other account signs in too, to post.
  let everyday = null;
  if (other) {
    const target = await client.v1.accounts.lookup({ acct: other });
    const otherToken = await oauth.token.create({
      grantType: "password",
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: OOB,
      scope: SCOPES,
      username: other,
      password,
    });
    const poster = createRestAPIClient({ url, accessToken: otherToken.accessToken, timeout: TIMEOUT_MS });
    everyday = {};
    everyday.bookmarked = (await client.v1.statuses.$select(first.id).bookmark()).bookmarked;
    everyday.bookmarks = (await client.v1.bookmarks.list()).map((status) => status.id);
    everyday.unbookmarked = (await client.v1.statuses.$select(first.id).unbookmark()).bookmarked === false;
    everyday.bookmarks_after = (await client.v1.bookmarks.list()).length;

    everyday.following = (await client.v1.accounts.$select(target.id).follow()).following;
    const made = await client.v1.lists.create({ title: "masto.js list", repliesPolicy: "followed" });
    everyday.list = [made.title, made.repliesPolicy, made.exclusive];
    everyday.list_id = made.id;
    const list = client.v1.lists.$select(made.id);
    everyday.renamed = (await list.update({ title: "renamed", exclusive: true })).title;
    everyday.fetched_list = [(await list.fetch()).title, (await list.fetch()).exclusive];
    await list.accounts.create({ accountIds: [target.id] });
    everyday.members = (await list.accounts.list()).map((a) => a.username);
    everyday.lists_of_member = (await client.v1.accounts.$select(target.id).lists.list()).map((l) => l.id === made.id);
    everyday.lists = (await client.v1.lists.list()).map((l) => l.title);
    const one = await poster.v1.statuses.create({ status: "one for the list" });
    const two = await poster.v1.statuses.create({ status: "two for the list" });
    everyday.posted = [one.id, two.id];
    everyday.list_timeline = [];
    for await (const page of client.v1.timelines.list.$select(made.id).list({ limit: 1 })) {
      everyday.list_timeline.push(...page.map((status) => status.id));
      if (everyday.list_timeline.length >= 3) break;
    }
    // The list's stream, through the library's streaming client: the
    // member posts until an update arrives (the subscription frame may
    // still be on its way when the first post is made), a few at most.
    const streaming = createStreamingAPIClient({
      streamingApiUrl: v2.configuration.urls.streaming,
      accessToken: token.accessToken,
    });
    const events = streaming.list.subscribe({ list: made.id }).values();
    let next = events.next();
    let live = null;
    for (let attempt = 0; attempt < 10 && !live; attempt += 1) {
      await poster.v1.statuses.create({ status: `live ${attempt}` });
      const waited = await Promise.race([
        next,
        new Promise((resolve) => setTimeout(resolve, 2_000, null)),
      ]);
      if (waited) live = waited.value;
    }
    everyday.list_stream = live && [live.stream, live.event, live.payload.account.id === target.id];
    streaming.close();
    // The list is exclusive: its member's posts are not at home.
    const home = await client.v1.timelines.home.list({ limit: 40 });
    everyday.member_at_home = home.some((status) => status.account.id === target.id);
    await list.accounts.remove({ accountIds: [target.id] });
    everyday.members_after = (await list.accounts.list()).length;
    await list.remove();
    everyday.lists_after = (await client.v1.lists.list()).length;

    const before = (await client.v1.notifications.unreadCount.fetch()).count;
    await poster.v1.statuses.create({ status: `@${login} a mention` });
    everyday.unread_added = (await client.v1.notifications.unreadCount.fetch()).count - before;
    const [newest] = await client.v1.notifications.list({ limit: 1 });
    await client.v1.markers.create({ notifications: { lastReadId: newest.id } });
    const markers = await client.v1.markers.fetch({ timeline: ["notifications"] });
    everyday.marker = markers.notifications?.lastReadId === newest.id;
    everyday.unread_after = (await client.v1.notifications.unreadCount.fetch()).count;

    everyday.preferences = await client.v1.preferences.fetch();
    everyday.search = (
      await client.v1.accounts.search.list({ q: other.slice(0, 2), following: true })
    ).map((a) => a.username);
    everyday.multi = (await client.v1.statuses.fetch({ id: [two.id, first.id, "1"] })).map((s) => s.id);
    everyday.multi_expected = [two.id, first.id];
    everyday.note = (await client.v1.accounts.$select(target.id).note.create({ comment: "from masto.js" })).note;
  }
  const deleted = await client.v1.statuses.$select(second.id).remove();
  check(deleted.text === "second from masto.js", "delete did not return the source text");

  // Revoking through the library stops the token.
  await oauth.revoke({
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    token: token.accessToken,
  });
  let revoked = false;
  try {
    await client.v1.accounts.verifyCredentials();
  } catch (error) {
    if (error?.statusCode !== 401) throw error;
    revoked = true;
  }
  check(revoked, "the token still works after /oauth/revoke");

  console.log(
    JSON.stringify({
      library: "masto",
      app: application.name,
      scope: token.scope,
      id: account.id,
      username: account.username,
      acct: account.acct,
      instance_uri: v1.uri,
      instance_domain: v2.domain,
      version: v2.version,
      streaming: v2.configuration?.urls?.streaming ?? null,
      revoked,
      posted: [first.id, second.id],
      paged,
      descendants: context.descendants.map((status) => status.id),
      kept,
      poll,
      everyday,
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

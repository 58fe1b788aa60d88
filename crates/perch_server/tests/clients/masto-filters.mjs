// Signs in to a Perch server with masto.js as masto.mjs does, then drives
// filters through the library's own calls: v2 filters with their keywords
// and statuses (client.v2.filters…), the older v1 filters
// (client.v1.filters…), and the `filtered` results a status carries. Run
// by crates/perch_server/tests/it/client_libraries.rs; by hand:
//
//   node masto-filters.mjs http://127.0.0.1:8080 alice 'a long passphrase'
//
// Arguments may instead come from PERCH_TEST_URL, PERCH_TEST_LOGIN and
// PERCH_TEST_PASSWORD. On success it prints one JSON line with what it
// read and exits 0; on any failure it prints the error and exits 1.

import { createOAuthAPIClient, createRestAPIClient } from "masto";

const [url, login, password] = [
  process.argv[2] ?? process.env.PERCH_TEST_URL,
  process.argv[3] ?? process.env.PERCH_TEST_LOGIN,
  process.argv[4] ?? process.env.PERCH_TEST_PASSWORD,
];
const SCOPES = "read write";
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

/// The HTTP status of a call that must fail.
async function failure(call) {
  try {
    await call();
  } catch (error) {
    if (!error?.statusCode) throw error;
    return error.statusCode;
  }
  throw new Error("unexpected success");
}

async function main() {
  if (!url || !login || !password) {
    throw new Error("usage: node masto-filters.mjs BASE_URL LOGIN PASSWORD");
  }
  const anonymous = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js filters test",
    redirectUris: OOB,
    scopes: SCOPES,
  });
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
  const client = createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });

  // v2: a filter with keywords, read back, changed.
  const created = await client.v2.filters.create({
    title: "masto.js spoilers",
    context: ["home", "thread"],
    filterAction: "warn",
    keywordsAttributes: [{ keyword: "finale" }, { keyword: "ending", wholeWord: false }],
  });
  check(typeof created.id === "string", "filter id is not a string");
  check(created.expiresAt === null, "a filter without expiry has expires_at null");
  const listed = await client.v2.filters.list();
  check(listed.some((f) => f.id === created.id), "the new filter is not listed");
  const filter = client.v2.filters.$select(created.id);
  const fetched = await filter.fetch();
  const updated = await filter.update({
    title: "masto.js TV",
    expiresIn: 3600,
    keywordsAttributes: [{ id: fetched.keywords[1].id, _destroy: true }],
  });
  check(typeof updated.expiresAt === "string", "expires_in set no expires_at");

  // Its keywords and statuses, each through its own resource.
  const keyword = await filter.keywords.create({ keyword: "recap", wholeWord: true });
  const keywords = await filter.keywords.list();
  const renamed = await client.v2.filters.keywords.$select(keyword.id).update({ keyword: "recaps" });
  const keywordFetched = await client.v2.filters.keywords.$select(keyword.id).fetch();
  await client.v2.filters.keywords.$select(keyword.id).remove();
  const posted = await client.v1.statuses.create({ status: "tonight's finale", visibility: "unlisted" });
  const filteredStatus = await filter.statuses.create({ statusId: posted.id });
  const statuses = await filter.statuses.list();
  const statusFetched = await client.v2.filters.statuses.$select(filteredStatus.id).fetch();

  // The status as the library reads it: marked by the filter.
  const shown = await client.v1.statuses.$select(posted.id).fetch();
  const result = shown.filtered?.[0] ?? null;
  await client.v2.filters.statuses.$select(filteredStatus.id).remove();

  // v1: a filter of one keyword, read, changed and removed.
  const v1 = await client.v1.filters.create({
    phrase: "masto.js v1",
    context: ["public"],
    irreversible: true,
    wholeWord: false,
  });
  const v1Listed = await client.v1.filters.list();
  const v1Updated = await client.v1.filters.$select(v1.id).update({
    phrase: "masto.js v1 changed",
    context: ["public", "notifications"],
    irreversible: false,
  });
  const v1Fetched = await client.v1.filters.$select(v1.id).fetch();
  await client.v1.filters.$select(v1.id).remove();
  const v1Gone = await failure(() => client.v1.filters.$select(v1.id).fetch());

  await filter.remove();
  const gone = await failure(() => filter.fetch());
  const invalid = await failure(() => client.v2.filters.create({ title: "no context", context: [] }));

  console.log(
    JSON.stringify({
      library: "masto",
      v2: {
        id: created.id,
        title: updated.title,
        context: updated.context,
        action: updated.filterAction,
        keywords: updated.keywords.map((k) => [k.keyword, k.wholeWord]),
        listed: listed.length,
        nested: {
          keywords: keywords.map((k) => k.keyword),
          renamed: renamed.keyword,
          fetched: keywordFetched.id === keyword.id,
          statuses: statuses.map((s) => s.statusId),
          status: statusFetched.statusId,
        },
        gone,
        invalid,
      },
      filtered: result && {
        filter: result.filter.id,
        keyword_matches: result.keywordMatches,
        status_matches: result.statusMatches,
      },
      posted: posted.id,
      filtered_status: filteredStatus.id,
      v1: {
        id: v1.id,
        created: [v1.phrase, v1.context, v1.irreversible, v1.wholeWord],
        listed: v1Listed.map((f) => f.phrase),
        updated: [v1Updated.phrase, v1Updated.context, v1Updated.irreversible],
        fetched: v1Fetched.phrase,
        gone: v1Gone,
      },
    }),
  );
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`masto.js filters against ${url}: ${describe(error)}`);
  process.exit(1);
}

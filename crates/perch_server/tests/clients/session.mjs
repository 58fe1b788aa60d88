// What every client-library script here starts with: its arguments, an
// app registered through masto.js, and accounts signed in with the
// password grant through the library's own OAuth client.

import { createOAuthAPIClient, createRestAPIClient } from "masto";

export const SCOPES = "read write follow push admin:read admin:write";
export const OOB = "urn:ietf:wg:oauth:2.0:oob";
export const TIMEOUT_MS = 20_000;

/// The base URL, login and password (arguments, or PERCH_TEST_URL,
/// PERCH_TEST_LOGIN and PERCH_TEST_PASSWORD), and another local account
/// (PERCH_TEST_OTHER, PERCH_TEST_OTHER_PASSWORD) when one is given.
export function argumentsOf(script) {
  const [url, login, password] = [
    process.argv[2] ?? process.env.PERCH_TEST_URL,
    process.argv[3] ?? process.env.PERCH_TEST_LOGIN,
    process.argv[4] ?? process.env.PERCH_TEST_PASSWORD,
  ];
  if (!url || !login || !password) {
    throw new Error(`usage: node ${script} BASE_URL LOGIN PASSWORD`);
  }
  return {
    url,
    login,
    password,
    other: process.env.PERCH_TEST_OTHER || null,
    otherPassword: process.env.PERCH_TEST_OTHER_PASSWORD || null,
  };
}

export function check(condition, message) {
  if (!condition) throw new Error(`unexpected response: ${message}`);
}

export function describe(error) {
  // MastoHttpError carries the status and the server's error fields.
  const status = error?.statusCode ? ` (HTTP ${error.statusCode})` : "";
  const details = error?.description ? `: ${error.description}` : "";
  const cause = error?.cause instanceof Error ? `\ncaused by: ${error.cause.stack}` : "";
  return `${error?.stack ?? error}${status}${details}${cause}`;
}

/// Register an app named `name` and return a function that signs an
/// account in with it, answering a REST client and its access token.
export async function signInWith(url, name) {
  const anonymous = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anonymous.v1.apps.create({
    clientName: name,
    redirectUris: OOB,
    scopes: SCOPES,
  });
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  return async (username, password) => {
    const token = await oauth.token.create({
      grantType: "password",
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: OOB,
      scope: SCOPES,
      username,
      password,
    });
    const client = createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
    return { client, accessToken: token.accessToken };
  };
}

/// Run `main`, print the JSON it answers on one line and exit 0, or print
/// the error and exit 1.
export async function run(label, url, main) {
  try {
    console.log(JSON.stringify(await main()));
    process.exit(0);
  } catch (error) {
    console.error(`${label} against ${url}: ${describe(error)}`);
    process.exit(1);
  }
}

/// The first value of `events` (an async iterator) that `wanted` accepts,
/// causing it with `act(attempt)` until one arrives (a subscription may
/// still be on its way when the first cause is made), a few times at most.
export async function firstEvent(events, wanted, act, attempts = 10) {
  let next = events.next();
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    await act(attempt);
    for (;;) {
      const waited = await Promise.race([
        next,
        new Promise((resolve) => setTimeout(resolve, 2_000, null)),
      ]);
      if (!waited) break;
      next = events.next();
      if (wanted(waited.value)) return waited.value;
    }
  }
  return null;
}

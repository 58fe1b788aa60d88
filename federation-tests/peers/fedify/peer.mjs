// An ActivityPub server built on Fedify, run by the federation tests
// (federation-tests/tests/it/fedify/) as a peer of a Perch instance.
//
// It listens on 127.0.0.1, on the port given as its first argument (0 picks
// a free one), and prints one JSON line, {"port": N}, once it serves. Two
// actors, bob and carol, and an instance actor, each with an RSA and an
// Ed25519 key pair made at start, are served by Fedify: WebFinger, actor,
// inbox (and the shared inbox, whose fetches the instance actor signs),
// outbox, followers, following, and their notes and questions. Fedify
// verifies every signature it receives (verification is never skipped);
// it is only allowed to reach private addresses, since its peer listens on
// loopback. With --secure, it answers fetches only when they are signed.
// It exits when its stdin closes (the test holds it open).
//
// The test drives it through a control API (JSON in, JSON out):
//
//   POST /control/follow    {actor, target}            Follow of an actor URL
//   POST /control/unfollow  {actor, target}            Undo of that Follow
//   POST /control/answer    {actor, follower, accept}  Accept or Reject of a request
//                           (carol is locked: her followers wait for it)
//   POST /control/profile   {actor, name}              Update of the actor, renamed
//   POST /control/leave     {actor}                    Delete of the actor, then gone
//   POST /control/post      {actor, content, to?, mentions?, hashtags?, emojis?,
//                            attachments?: [{name}], summary?, quote?}
//                           Create of a Note (to: public, unlisted, followers or direct)
//   POST /control/reply     {actor, inReplyTo, content}
//   POST /control/like      {actor, object}
//   POST /control/announce  {actor, object}
//   POST /control/react     {actor, object, emoji}     EmojiReact
//   POST /control/undo      {actor, activity}          Undo of a Like, EmojiReact or Announce
//   POST /control/update    {actor, id, content}       Update of one of its notes
//   POST /control/delete    {actor, id, byId?}         Delete of one (a Tombstone, or its id)
//   POST /control/question  {actor, content, options, multiple?, endTime?}
//   POST /control/vote      {actor, question, choice}  a vote: a Note with a name
//   POST /control/tally     {actor, id}                Update of a question, votes counted
//   POST /control/nodeinfo  {url}                      a server's NodeInfo, read strictly
//   POST /control/collection {actor, url, limit?}      a collection, read page by page
//   POST /control/forged    {actor, inbox, as}         a Create signed by another key
//   POST /control/tampered  {actor, inbox}             a Create changed after signing
//   GET  /control/inbox     what the inbox accepted, verified, in order
//   GET  /control/requests  every POST and signed GET, and the status it was answered
//   GET  /control/following?actor=  GET /control/followers?actor=
//   GET  /control/pending?actor=    the follow requests waiting for an answer
//   GET  /control/votes?id=  the votes counted for one of its questions
//
// A read with `after=N` (the `X-Peer-Version` of an earlier answer) waits
// until something may have changed since, for at most five seconds.
//
// Sending happens at once (no queue), so a control request answers once the
// activity has been delivered, or fails with the delivery's error.
//
// This file serves it over HTTP; federation.mjs holds the Fedify side
// (actors, keys, what it serves and its inbox), control.mjs the control
// API.

import http from "node:http";
import { control, reads } from "./control.mjs";
import { ACTORS, DOT, federation, state } from "./federation.mjs";

// Every request that may change what the reads show (a control action, or
// anything the federation side answers) moves `version` on; a read asked
// with `?after=N` waits, at most WAIT_MS, until it has moved past N, so the
// test awaits a change instead of asking again and again. Each read's
// answer carries the version it shows in `X-Peer-Version`.
const WAIT_MS = 5_000;
let version = 0;
const waiting = new Set();

function changed() {
  version += 1;
  for (const wake of waiting) wake();
  waiting.clear();
}

function changedAfter(after) {
  if (!(version <= after)) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      waiting.delete(wake);
      resolve();
    }, WAIT_MS);
    waiting.add(wake);
  });
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function json(res, status, value, extra = {}) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...extra });
  res.end(JSON.stringify(value ?? null));
}

async function handle(req, res) {
  const origin = `http://${req.headers.host}`;
  const url = new URL(req.url, origin);
  const body = await readBody(req);
  if (url.pathname === "/media/dot.png") {
    res.writeHead(200, { "Content-Type": "image/png" });
    return res.end(DOT);
  }
  if (url.pathname.startsWith("/control/")) {
    const ctx = federation.createContext(new Request(url), undefined);
    if (req.method === "GET") {
      const after = url.searchParams.get("after");
      if (after != null) await changedAfter(Number(after));
      const value = reads(url);
      if (value === undefined) return json(res, 404, { error: "no such read" });
      return json(res, 200, value, { "X-Peer-Version": String(version) });
    }
    const name = url.pathname.slice("/control/".length);
    if (req.method !== "POST" || !Object.hasOwn(control, name)) {
      return json(res, 404, { error: "no such control" });
    }
    try {
      const params = JSON.parse(body.toString("utf8") || "{}");
      if (params.actor != null && !(params.actor in ACTORS)) {
        return json(res, 400, { error: `no actor ${params.actor}` });
      }
      return json(res, 200, await control[name](ctx, params));
    } catch (error) {
      console.error(`control ${name} failed:`, error);
      return json(res, 500, { error: String(error?.stack ?? error) });
    }
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const request = new Request(url, {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
  const response = await federation.fetch(request, { contextData: undefined });
  if (req.method === "POST" || headers.has("signature")) {
    state.requests.push({
      method: req.method,
      path: url.pathname,
      status: response.status,
      scheme: headers.has("signature-input")
        ? "rfc9421"
        : headers.has("signature")
          ? "cavage"
          : null,
      keyId: /keyId="([^"]*)"/.exec(headers.get("signature") ?? "")?.[1] ??
        /keyid="([^"]*)"/.exec(headers.get("signature-input") ?? "")?.[1] ?? null,
    });
  }
  res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
  res.end(Buffer.from(await response.arrayBuffer()));
}

const server = http.createServer((req, res) => {
  const reading = req.method === "GET" && req.url.startsWith("/control/");
  handle(req, res)
    .catch((error) => {
      console.error("request failed:", error);
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.end();
    })
    .finally(() => {
      if (!reading) changed();
    });
});
// The test holds this process's stdin open: when it ends, however it
// ends, so does the peer.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});

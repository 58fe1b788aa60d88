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
// Sending happens at once (no queue), so a control request answers once the
// activity has been delivered, or fails with the delivery's error.

import http from "node:http";
import { Temporal } from "@js-temporal/polyfill";
import {
  Accept,
  Activity,
  Announce,
  Application,
  Collection,
  Create,
  Delete,
  Document,
  Emoji,
  EmojiReact,
  Endpoints,
  Follow,
  Hashtag,
  Image,
  Like,
  MemoryKvStore,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Question,
  Reject,
  Tombstone,
  Undo,
  Update,
  createFederation,
  generateCryptoKeyPair,
  signRequest,
} from "@fedify/fedify";

// A 1×1 PNG, served at /media/dot.png: the actors' avatars, the notes'
// attachments and custom emoji.
const DOT = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

function picture(base) {
  return new Image({ url: new URL("/media/dot.png", base), mediaType: "image/png" });
}

/** The URL a property holds, as a URL or as a Link's href. */
function hrefOf(value) {
  return value instanceof URL ? value.href : (value?.href?.href ?? null);
}

// identifier → display name (which /control/profile changes)
const ACTORS = { bob: "Bob of Fedify", carol: "Carol of Fedify" };
// Actors whose followers need approval (/control/answer gives it).
const LOCKED = new Set(["carol"]);

// With --secure, its actors, objects and collections are served only to
// signed requests (as Mastodon's authorized fetch does), except the
// instance actor, whose key signs its own fetches.
const SECURE = process.argv.includes("--secure");
const INSTANCE = "instance";

const keys = {};
for (const identifier of [...Object.keys(ACTORS), INSTANCE]) {
  keys[identifier] = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];
}

// Everything the peer knows, in memory.
const state = {
  // identifier → Map(actor id → {id, inboxId, endpoints})
  followers: Object.fromEntries(Object.keys(ACTORS).map((a) => [a, new Map()])),
  // identifier → Map(target id → {follow, state})
  following: Object.fromEntries(Object.keys(ACTORS).map((a) => [a, new Map()])),
  // identifier → Map(actor id → {follow, follower}) awaiting an answer
  pending: Object.fromEntries(Object.keys(ACTORS).map((a) => [a, new Map()])),
  // identifier → [Create activity], newest last
  outbox: Object.fromEntries(Object.keys(ACTORS).map((a) => [a, []])),
  // object id → Note | Question
  objects: new Map(),
  // question id → Map(option name → Set(voter id))
  votes: new Map(),
  // ids of its questions that allow several choices
  multiple: new Set(),
  // sent Like, EmojiReact and Announce activities by id, for their Undo
  sent: new Map(),
  // verified activities received, in order
  inbox: [],
  // {method, path, status, keyId, scheme} of every POST and signed GET
  requests: [],
};

const federation = createFederation({
  kv: new MemoryKvStore(),
  // The peer and Perch both listen on loopback.
  allowPrivateAddress: true,
});

/** Whether a fetch is answered: always, or signed in secure mode. */
function authorized(_ctx, _values, signedKey) {
  return !SECURE || signedKey != null;
}

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    const pairs = await ctx.getActorKeyPairs(identifier);
    if (identifier === INSTANCE) {
      return new Application({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        publicKey: pairs[0].cryptographicKey,
        assertionMethods: pairs.map((pair) => pair.multikey),
      });
    }
    if (!(identifier in ACTORS)) return null;
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: ACTORS[identifier],
      summary: "A Fedify actor that Perch's federation tests talk to.",
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: LOCKED.has(identifier),
      icon: picture(ctx.getActorUri(identifier)),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => keys[identifier] ?? [])
  .authorize((ctx, identifier, signedKey) =>
    identifier === INSTANCE || authorized(ctx, identifier, signedKey),
  );

federation
  .setObjectDispatcher(
    Note,
    "/users/{identifier}/notes/{id}",
    (ctx, values) => state.objects.get(ctx.getObjectUri(Note, values).href) ?? null,
  )
  .authorize(authorized);
federation
  .setObjectDispatcher(
    Question,
    "/users/{identifier}/questions/{id}",
    (ctx, values) => counted(ctx.getObjectUri(Question, values).href),
  )
  .authorize(authorized);

/** One of its questions, with the votes counted so far in each option. */
function counted(id) {
  const question = state.objects.get(id);
  const tally = state.votes.get(id);
  if (!(question instanceof Question) || tally == null) return null;
  const option = (name) =>
    new Note({ name, replies: new Collection({ totalItems: tally.get(name)?.size ?? 0 }) });
  const voters = new Set([...tally.values()].flatMap((v) => [...v]));
  return question.clone({
    ...(state.multiple.has(id)
      ? { inclusiveOptions: [...tally.keys()].map(option) }
      : { exclusiveOptions: [...tally.keys()].map(option) }),
    voters: voters.size,
  });
}

federation
  .setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) =>
    identifier in ACTORS ? { items: [...state.outbox[identifier]].reverse() } : { items: [] },
  )
  .authorize(authorized);
federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
    identifier in ACTORS ? { items: [...state.followers[identifier].values()] } : null,
  )
  .authorize(authorized);
federation
  .setFollowingDispatcher("/users/{identifier}/following", (_ctx, identifier) =>
    identifier in ACTORS
      ? {
          items: [...state.following[identifier].entries()]
            .filter(([, f]) => f.state === "accepted")
            .map(([id]) => new URL(id)),
        }
      : null,
  )
  .authorize(authorized);

// Every verified activity is recorded; follows are answered, and answers to
// ours, undos of follows and votes on our questions are applied.
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    const json = await activity.toJsonLd();
    state.inbox.push({
      recipient: ctx.recipient,
      type: json.type,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: await understood(ctx, activity, json),
      json,
    });
    if (activity instanceof Follow) await answerFollow(ctx, activity);
    else if (activity instanceof Accept || activity instanceof Reject) {
      await answered(ctx, activity);
    } else if (activity instanceof Undo) await undone(ctx, activity);
    else if (activity instanceof Create) await maybeVote(ctx, activity);
  })
  .onError((_ctx, error) => console.error("inbox listener failed:", error))
  // The shared inbox fetches keys and objects signed by the instance actor.
  .setSharedKeyDispatcher(() => ({ identifier: INSTANCE }));

// The object of a received activity as Fedify's vocabulary reads it (not
// as it was written), so that the test sees what Fedify understood.
async function understood(ctx, activity, json) {
  // This server's own objects, named by id, are taken from memory rather
  // than fetched.
  const embedded = typeof json.object === "object" && json.object != null;
  const local = activity.objectId != null && ctx.parseUri(activity.objectId) != null;
  let object;
  try {
    object = local && !embedded
      ? state.objects.get(activity.objectId.href)
      : await activity.getObject(ctx);
  } catch (error) {
    // Gone (a deleted actor answers 410) or unreadable: the id is known.
    return { id: activity.objectId?.href ?? null, error: String(error) };
  }
  if (object == null) return { id: activity.objectId?.href ?? null };
  const tags = [];
  for await (const tag of object.getTags?.(ctx) ?? []) {
    tags.push({
      type: tag.constructor.name,
      href: tag.href?.href ?? null,
      name: tag.name?.toString() ?? null,
    });
  }
  const attachments = [];
  for await (const a of object.getAttachments?.(ctx) ?? []) {
    attachments.push({
      type: a.constructor.name,
      url: hrefOf(a.url),
      mediaType: a.mediaType ?? null,
      name: a.name?.toString() ?? null,
    });
  }
  const icon = await object.getIcon?.(ctx);
  const exclusive = await collect(object.getExclusiveOptions?.(ctx) ?? []);
  const inclusive = await collect(object.getInclusiveOptions?.(ctx) ?? []);
  const options = [...exclusive, ...inclusive];
  return {
    type: object.constructor.name,
    id: object.id?.href ?? null,
    attributedTo: object.attributionId?.href ?? null,
    actor: object.actorId?.href ?? null,
    object: object.objectId?.href ?? null,
    name: object.name?.toString() ?? null,
    content: object.content?.toString() ?? null,
    summary: object.summary?.toString() ?? null,
    inReplyTo: object.replyTargetId?.href ?? null,
    url: hrefOf(object.url),
    published: object.published?.toString() ?? null,
    updated: object.updated?.toString() ?? null,
    to: (object.toIds ?? []).map((id) => id.href),
    cc: (object.ccIds ?? []).map((id) => id.href),
    tags,
    attachments,
    icon: hrefOf(icon?.url),
    // A Question's options, with the vote counts it gives.
    options: options.map((o) => o.name?.toString() ?? null),
    multiple: options.length > 0 ? inclusive.length > 0 : null,
    votes: Object.fromEntries(
      await Promise.all(
        options.map(async (o) => [
          o.name?.toString(),
          (await o.getReplies?.(ctx))?.totalItems ?? null,
        ]),
      ),
    ),
    voters: object.voters ?? null,
    endTime: object.endTime?.toString() ?? null,
    closed: object.closed == null ? null : String(object.closed),
  };
}

async function collect(iterable) {
  const all = [];
  for await (const item of iterable) all.push(item);
  return all;
}

async function answerFollow(ctx, follow) {
  const target = ctx.parseUri(follow.objectId);
  if (target?.type !== "actor" || !(target.identifier in ACTORS)) return;
  const follower = await follow.getActor(ctx);
  if (follower == null || follower.inboxId == null) return;
  if (LOCKED.has(target.identifier)) {
    state.pending[target.identifier].set(follower.id.href, { follow, follower });
    return;
  }
  await answer(ctx, target.identifier, follow, follower, true);
}

/** Accept (the follower is added) or Reject `follow` by `follower`. */
async function answer(ctx, identifier, follow, follower, accept) {
  if (accept) {
    state.followers[identifier].set(follower.id.href, {
      id: follower.id,
      inboxId: follower.inboxId,
      endpoints: follower.endpoints,
    });
  }
  const Answer = accept ? Accept : Reject;
  await ctx.sendActivity(
    { identifier },
    follower,
    new Answer({
      id: new URL(`#answers/${crypto.randomUUID()}`, ctx.getActorUri(identifier)),
      actor: ctx.getActorUri(identifier),
      object: follow,
    }),
  );
}

async function answered(ctx, answer) {
  const follow = await answer.getObject(ctx);
  if (!(follow instanceof Follow) || follow.actorId == null) return;
  const ours = ctx.parseUri(follow.actorId);
  if (ours?.type !== "actor" || !(ours.identifier in ACTORS)) return;
  const entry = state.following[ours.identifier].get(answer.actorId?.href);
  if (entry == null) return;
  entry.state = answer instanceof Accept ? "accepted" : "rejected";
}

async function undone(ctx, undo) {
  const object = await undo.getObject(ctx);
  if (!(object instanceof Follow) || undo.actorId == null) return;
  const target = ctx.parseUri(object.objectId);
  if (target?.type !== "actor" || !(target.identifier in ACTORS)) return;
  state.followers[target.identifier].delete(undo.actorId.href);
  state.pending[target.identifier].delete(undo.actorId.href);
}

async function maybeVote(ctx, create) {
  const note = await create.getObject(ctx);
  if (!(note instanceof Note) || note.name == null || note.replyTargetId == null) return;
  const tally = state.votes.get(note.replyTargetId.href);
  if (tally == null || create.actorId == null) return;
  tally.get(note.name.toString())?.add(create.actorId.href);
}

// --- sending ----------------------------------------------------------------

function now() {
  return Temporal.Now.instant();
}

/** The document and context loaders of fetches signed by `identifier`. */
async function loaders(ctx, identifier) {
  return {
    documentLoader: await ctx.getDocumentLoader({ identifier }),
    contextLoader: ctx.contextLoader,
  };
}

/** The object at `url`, fetched with a signature by `identifier`. */
async function lookup(ctx, identifier, url) {
  const object = await ctx.lookupObject(url, await loaders(ctx, identifier));
  if (object?.id == null) throw new Error(`${url} could not be looked up`);
  return object;
}

/** The author of the object at `url`, looked up. */
async function authorOf(ctx, identifier, url) {
  const object = await lookup(ctx, identifier, url);
  const author = await object.getAttribution?.(await loaders(ctx, identifier));
  if (author == null) throw new Error(`${url} names no author`);
  return { object, author };
}

function mintUri(ctx, cls, identifier) {
  return ctx.getObjectUri(cls, { identifier, id: crypto.randomUUID() });
}

/** Deliver `activity` to the actor's followers (when it has any) and to `others`. */
async function deliver(ctx, identifier, activity, others = []) {
  if (state.followers[identifier].size > 0) {
    await ctx.sendActivity({ identifier }, "followers", activity, {
      preferSharedInbox: true,
    });
  }
  const followerIds = new Set(state.followers[identifier].keys());
  const rest = others.filter((actor) => !followerIds.has(actor.id?.href));
  if (rest.length > 0) await ctx.sendActivity({ identifier }, rest, activity);
}

function addressing(ctx, identifier, to, mentioned) {
  const followers = ctx.getFollowersUri(identifier);
  const extra = mentioned.map((a) => a.id);
  switch (to ?? "public") {
    case "public":
      return { tos: [PUBLIC_COLLECTION], ccs: [followers, ...extra] };
    case "unlisted":
      return { tos: [followers], ccs: [PUBLIC_COLLECTION, ...extra] };
    case "followers":
      return { tos: [followers, ...extra], ccs: [] };
    case "direct":
      return { tos: extra, ccs: [] };
    default:
      throw new Error(`unknown addressing ${to}`);
  }
}

async function publish(
  ctx,
  identifier,
  {
    content,
    to,
    inReplyTo,
    mentioned = [],
    hashtags = [],
    emojis = [],
    attachments = [],
    summary,
    quote,
  },
) {
  const id = mintUri(ctx, Note, identifier);
  const note = new Note({
    id,
    attribution: ctx.getActorUri(identifier),
    content,
    summary: summary ?? null,
    sensitive: summary != null,
    published: now(),
    replyTarget: inReplyTo ? new URL(inReplyTo) : null,
    quoteUrl: quote ? new URL(quote) : null,
    tags: [
      ...mentioned.map(
        (actor) =>
          new Mention({ href: actor.id, name: `@${actor.preferredUsername}@${actor.id.host}` }),
      ),
      ...hashtags.map(
        (name) =>
          new Hashtag({ href: new URL(`/tags/${encodeURIComponent(name)}`, id), name: `#${name}` }),
      ),
      ...emojis.map(
        (name) =>
          new Emoji({
            id: new URL(`/emojis/${encodeURIComponent(name)}`, id),
            name: `:${name}:`,
            icon: picture(id),
          }),
      ),
    ],
    attachments: attachments.map(
      ({ name }) =>
        new Document({ url: new URL("/media/dot.png", id), mediaType: "image/png", name }),
    ),
    url: id,
    ...addressing(ctx, identifier, to, mentioned),
  });
  const create = new Create({
    id: new URL(`${id.href}/activity`),
    actor: note.attributionId,
    object: note,
    published: note.published,
    tos: note.toIds,
    ccs: note.ccIds,
  });
  state.objects.set(id.href, note);
  state.outbox[identifier].push(create);
  await deliver(ctx, identifier, create, mentioned);
  return { id: id.href, activity: create.id.href };
}

const control = {
  async follow(ctx, { actor, target }) {
    const followed = await lookup(ctx, actor, target);
    const follow = new Follow({
      id: new URL(`#follows/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: followed.id,
    });
    state.following[actor].set(followed.id.href, { follow, state: "pending" });
    await ctx.sendActivity({ identifier: actor }, followed, follow);
    return { id: follow.id.href };
  },

  // The answer of a locked actor to a follow request waiting for it.
  async answer(ctx, { actor, follower, accept }) {
    const request = state.pending[actor].get(follower);
    if (request == null) throw new Error(`${follower} did not ask to follow ${actor}`);
    state.pending[actor].delete(follower);
    await answer(ctx, actor, request.follow, request.follower, accept);
    return { accepted: accept };
  },

  async unfollow(ctx, { actor, target }) {
    const entry = state.following[actor].get(target);
    if (entry == null) throw new Error(`${actor} does not follow ${target}`);
    const followed = await lookup(ctx, actor, target);
    const undo = new Undo({
      id: new URL(`#undo/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: entry.follow,
    });
    await ctx.sendActivity({ identifier: actor }, followed, undo);
    state.following[actor].delete(target);
    return { id: undo.id.href };
  },

  async profile(ctx, { actor, name }) {
    ACTORS[actor] = name;
    const person = await ctx.getActor(actor);
    const update = new Update({
      id: new URL(`#profile/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: person,
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(actor)],
    });
    await deliver(ctx, actor, update);
    return { id: update.id.href };
  },

  // The actor deletes itself: a Delete of it to its followers, after
  // which it is gone (404).
  async leave(ctx, { actor }) {
    const del = new Delete({
      id: new URL(`#delete`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: ctx.getActorUri(actor),
      tos: [PUBLIC_COLLECTION],
    });
    await deliver(ctx, actor, del);
    delete ACTORS[actor];
    return { id: del.id.href };
  },

  // The NodeInfo of the server at `url`, read strictly (undefined when it
  // does not conform).
  async nodeinfo(ctx, { url }) {
    const info = await ctx.lookupNodeInfo(url, { parse: "strict" });
    return info == null
      ? { conforms: false }
      : {
          conforms: true,
          software: { name: info.software.name, version: String(info.software.version) },
          protocols: info.protocols,
          openRegistrations: info.openRegistrations,
          users: info.usage.users,
          localPosts: info.usage.localPosts,
        };
  },

  // A collection of another server (an outbox, followers…), looked up with
  // a signature by `actor` and read page after page: its size and items.
  async collection(ctx, { actor, url, limit = 50 }) {
    const collection = await lookup(ctx, actor, url);
    if (!(collection instanceof Collection)) throw new Error(`${url} is not a collection`);
    const items = [];
    for await (const item of ctx.traverseCollection(collection, await loaders(ctx, actor))) {
      items.push({
        type: item.constructor.name,
        id: item.id?.href ?? null,
        object: item.objectId?.href ?? null,
      });
      if (items.length >= limit) break;
    }
    return { type: collection.constructor.name, totalItems: collection.totalItems, items };
  },

  async post(ctx, { actor, content, to, mentions = [], ...rest }) {
    const mentioned = [];
    for (const target of mentions) mentioned.push(await lookup(ctx, actor, target));
    return await publish(ctx, actor, { content, to, mentioned, ...rest });
  },

  async reply(ctx, { actor, inReplyTo, content }) {
    const { author } = await authorOf(ctx, actor, inReplyTo);
    return await publish(ctx, actor, { content, inReplyTo, mentioned: [author] });
  },

  async like(ctx, { actor, object }) {
    const { author } = await authorOf(ctx, actor, object);
    const like = new Like({
      id: new URL(`#likes/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: new URL(object),
    });
    state.sent.set(like.id.href, { activity: like, to: [author] });
    await ctx.sendActivity({ identifier: actor }, author, like);
    return { id: like.id.href };
  },

  // An emoji reaction (as Pleroma, Akkoma and Misskey send them).
  async react(ctx, { actor, object, emoji }) {
    const { author } = await authorOf(ctx, actor, object);
    const react = new EmojiReact({
      id: new URL(`#reactions/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: new URL(object),
      content: emoji,
    });
    state.sent.set(react.id.href, { activity: react, to: [author] });
    await ctx.sendActivity({ identifier: actor }, author, react);
    return { id: react.id.href };
  },

  async announce(ctx, { actor, object }) {
    const { author } = await authorOf(ctx, actor, object);
    const announce = new Announce({
      id: new URL(`${mintUri(ctx, Note, actor).href}/activity`),
      actor: ctx.getActorUri(actor),
      object: new URL(object),
      published: now(),
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(actor), author.id],
    });
    state.sent.set(announce.id.href, { activity: announce, to: [author] });
    await deliver(ctx, actor, announce, [author]);
    return { id: announce.id.href };
  },

  async undo(ctx, { actor, activity }) {
    const sent = state.sent.get(activity);
    if (sent == null) throw new Error(`${activity} was not sent`);
    const undo = new Undo({
      id: new URL(`#undo/${crypto.randomUUID()}`, ctx.getActorUri(actor)),
      actor: ctx.getActorUri(actor),
      object: sent.activity,
    });
    await deliver(ctx, actor, undo, sent.to);
    state.sent.delete(activity);
    return { id: undo.id.href };
  },

  async update(ctx, { actor, id, content }) {
    const note = state.objects.get(id);
    if (!(note instanceof Note)) throw new Error(`${id} is not a note of this server`);
    const updated = note.clone({ content, updated: now() });
    state.objects.set(id, updated);
    const update = new Update({
      id: new URL(`${id}#updates/${crypto.randomUUID()}`),
      actor: ctx.getActorUri(actor),
      object: updated,
      tos: updated.toIds,
      ccs: updated.ccIds,
    });
    await deliver(ctx, actor, update, await mentionedActors(ctx, actor, updated));
    return { id: update.id.href };
  },

  async delete(ctx, { actor, id, byId }) {
    const note = state.objects.get(id);
    if (note == null) throw new Error(`${id} is not an object of this server`);
    const mentioned = await mentionedActors(ctx, actor, note);
    state.objects.delete(id);
    state.outbox[actor] = state.outbox[actor].filter((c) => c.objectId?.href !== id);
    const del = new Delete({
      id: new URL(`${id}#delete`),
      actor: ctx.getActorUri(actor),
      object: byId ? new URL(id) : new Tombstone({ id: new URL(id) }),
      tos: note.toIds,
      ccs: note.ccIds,
    });
    await deliver(ctx, actor, del, mentioned);
    return { id: del.id.href };
  },

  async question(ctx, { actor, content, options, multiple, endTime }) {
    const id = mintUri(ctx, Question, actor);
    const choices = options.map((name) => new Note({ name }));
    const question = new Question({
      id,
      attribution: ctx.getActorUri(actor),
      content,
      published: now(),
      endTime: Temporal.Instant.from(
        endTime ?? now().add({ hours: 24 }).toString(),
      ),
      ...(multiple ? { inclusiveOptions: choices } : { exclusiveOptions: choices }),
      voters: 0,
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(actor)],
    });
    const create = new Create({
      id: new URL(`${id.href}/activity`),
      actor: question.attributionId,
      object: question,
      published: question.published,
      tos: question.toIds,
      ccs: question.ccIds,
    });
    state.objects.set(id.href, question);
    state.votes.set(id.href, new Map(options.map((name) => [name, new Set()])));
    if (multiple) state.multiple.add(id.href);
    state.outbox[actor].push(create);
    await deliver(ctx, actor, create);
    return { id: id.href, activity: create.id.href };
  },

  // An Update of one of its questions, with the votes counted so far, to
  // its author's followers.
  async tally(ctx, { actor, id }) {
    const question = counted(id);
    if (question == null) throw new Error(`${id} is not a question of this server`);
    const update = new Update({
      id: new URL(`${id}#updates/${crypto.randomUUID()}`),
      actor: ctx.getActorUri(actor),
      object: question,
      tos: question.toIds,
      ccs: question.ccIds,
    });
    await deliver(ctx, actor, update);
    return { id: update.id.href, voters: question.voters };
  },

  async vote(ctx, { actor, question, choice }) {
    const { author } = await authorOf(ctx, actor, question);
    const id = mintUri(ctx, Note, actor);
    const vote = new Note({
      id,
      attribution: ctx.getActorUri(actor),
      name: choice,
      replyTarget: new URL(question),
      tos: [author.id],
    });
    const create = new Create({
      id: new URL(`${id.href}/activity`),
      actor: vote.attributionId,
      object: vote,
      tos: [author.id],
    });
    await ctx.sendActivity({ identifier: actor }, author, create);
    return { id: id.href, activity: create.id.href };
  },

  // A Create by `actor` signed with the RSA key of `as`: the signature is
  // good, but its key is not the actor's.
  async forged(ctx, { actor, inbox, as }) {
    return await sendSigned(ctx, actor, inbox, keys[as][0].privateKey, ctx.getActorUri(as));
  },

  // A Create signed by the actor's own key whose body is changed after
  // signing: the Digest no longer matches.
  async tampered(ctx, { actor, inbox }) {
    const own = keys[actor][0].privateKey;
    return await sendSigned(ctx, actor, inbox, own, ctx.getActorUri(actor), true);
  },
};

async function sendSigned(ctx, actor, inbox, privateKey, owner, tamper = false) {
  const id = mintUri(ctx, Note, actor);
  const create = new Create({
    id: new URL(`${id.href}/activity`),
    actor: ctx.getActorUri(actor),
    object: new Note({
      id,
      attribution: ctx.getActorUri(actor),
      content: "signed by the wrong key",
      tos: [PUBLIC_COLLECTION],
    }),
    tos: [PUBLIC_COLLECTION],
  });
  const body = JSON.stringify(await create.toJsonLd());
  const unsigned = new Request(inbox, {
    method: "POST",
    headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" },
    body,
  });
  const keyId = new URL("#main-key", owner);
  const signed = await signRequest(unsigned, privateKey, keyId);
  const sent = tamper
    ? new Request(signed, { body: body.replace("wrong key", "right key") })
    : signed;
  const response = await fetch(sent);
  return { status: response.status, id: create.id.href, note: id.href };
}

async function mentionedActors(ctx, identifier, note) {
  const actors = [];
  for await (const tag of note.getTags(ctx)) {
    if (tag instanceof Mention && tag.href != null) {
      actors.push(await lookup(ctx, identifier, tag.href));
    }
  }
  return actors;
}

function reads(url) {
  const actor = url.searchParams.get("actor") ?? "bob";
  switch (url.pathname) {
    case "/control/inbox":
      return state.inbox;
    case "/control/requests":
      return state.requests;
    case "/control/followers":
      return [...state.followers[actor].keys()];
    case "/control/pending":
      return [...state.pending[actor].keys()];
    case "/control/following":
      return Object.fromEntries(
        [...state.following[actor].entries()].map(([id, f]) => [id, f.state]),
      );
    case "/control/votes": {
      const tally = state.votes.get(url.searchParams.get("id"));
      return tally == null
        ? null
        : Object.fromEntries([...tally.entries()].map(([name, voters]) => [name, [...voters]]));
    }
    default:
      return undefined;
  }
}

// --- HTTP -------------------------------------------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function json(res, status, value) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
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
      const value = reads(url);
      if (value === undefined) return json(res, 404, { error: "no such read" });
      return json(res, 200, value);
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
  handle(req, res).catch((error) => {
    console.error("request failed:", error);
    if (!res.headersSent) json(res, 500, { error: "internal error" });
    else res.end();
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});

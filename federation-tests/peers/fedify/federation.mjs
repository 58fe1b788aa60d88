// The Fedify side of the peer: its actors and their keys, what it keeps in
// memory, the documents it serves and the inbox that records what it
// verified. peer.mjs serves it over HTTP; control.mjs makes it act.

import {
  Accept,
  Activity,
  Application,
  Collection,
  Create,
  Endpoints,
  Follow,
  Image,
  MemoryKvStore,
  Note,
  Person,
  Question,
  Reject,
  Undo,
  createFederation,
  generateCryptoKeyPair,
} from "@fedify/fedify";

// A 1×1 PNG, served at /media/dot.png: the actors' avatars, the notes'
// attachments and custom emoji.
export const DOT = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

export function picture(base) {
  return new Image({ url: new URL("/media/dot.png", base), mediaType: "image/png" });
}

/** The URL a property holds, as a URL or as a Link's href. */
function hrefOf(value) {
  return value instanceof URL ? value.href : (value?.href?.href ?? null);
}

// identifier → display name (which /control/profile changes)
export const ACTORS = { bob: "Bob of Fedify", carol: "Carol of Fedify" };
// Actors whose followers need approval (/control/answer gives it).
const LOCKED = new Set(["carol"]);

// With --secure, its actors, objects and collections are served only to
// signed requests (as Mastodon's authorized fetch does), except the
// instance actor, whose key signs its own fetches.
const SECURE = process.argv.includes("--secure");
const INSTANCE = "instance";

export const keys = {};
for (const identifier of [...Object.keys(ACTORS), INSTANCE]) {
  keys[identifier] = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];
}

// Everything the peer knows, in memory.
export const state = {
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

export const federation = createFederation({
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
export function counted(id) {
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
export async function answer(ctx, identifier, follow, follower, accept) {
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

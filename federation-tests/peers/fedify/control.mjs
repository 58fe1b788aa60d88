// What the peer does when the test asks: the control API's actions
// (POST /control/…) and reads (GET /control/…), and the sending they share.

import { Temporal } from "@js-temporal/polyfill";
import {
  Accept,
  Announce,
  Collection,
  Create,
  Delete,
  Document,
  Emoji,
  EmojiReact,
  Follow,
  Hashtag,
  Like,
  Mention,
  Note,
  PUBLIC_COLLECTION,
  Question,
  Tombstone,
  Undo,
  Update,
  signRequest,
} from "@fedify/fedify";
import { ACTORS, answer, counted, keys, picture, state } from "./federation.mjs";

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

export const control = {
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

export function reads(url) {
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

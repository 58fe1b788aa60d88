// Drives, through masto.js, what a Mastodon app calls to find its way
// around a server: hashtags (followed, featured, their pages), trends,
// suggestions, custom emojis, the instance's peers, activity and blocked
// servers, Web Push subscriptions, the posting defaults kept in the
// credentials, pins, and the public media and local hashtag streams. Run by
// crates/perch_server/tests/it/client_libraries.rs; by hand:
//
//   PERCH_TEST_OTHER=bea PERCH_TEST_OTHER_PASSWORD='…' \
//   PERCH_TEST_PICTURE=dot.png node masto-discovery.mjs http://127.0.0.1:8080 alice '…'
//
// The signed-in account must be an administrator; the other account posts
// and is suggested. Prints one JSON line with what it read.

import { createECDH, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import { createStreamingAPIClient } from "masto";

import { argumentsOf, check, firstEvent, run, signInWith } from "./session.mjs";

const { url, login, password, other, otherPassword } = argumentsOf("masto-discovery.mjs");
const picture = process.env.PERCH_TEST_PICTURE;

async function main() {
  check(other && otherPassword && picture, "PERCH_TEST_OTHER, _OTHER_PASSWORD and _PICTURE are needed");
  const signIn = await signInWith(url, "masto.js discovery test");
  const { client, accessToken } = await signIn(login, password);
  const { client: poster } = await signIn(other, otherPassword);
  const me = await client.v1.accounts.verifyCredentials();
  const them = await poster.v1.accounts.verifyCredentials();
  const read = {};

  // Hashtags: followed (their statuses then reach home), listed, featured
  // from their page and unfollowed.
  const tag = client.v1.tags.$select("PerchTrend");
  const followed = await tag.follow();
  read.followed = [followed.name, followed.following, typeof followed.id];
  const tagged = await poster.v1.statuses.create({ status: "on #perchtrend" });
  await poster.v1.statuses.create({ status: "untagged" });
  const home = await client.v1.timelines.home.list({ limit: 40 });
  read.home = home.map((status) => status.id);
  read.home_expected = [tagged.id];
  read.tag_page = await tag.fetch().then((t) => [t.following, t.history.length]);
  read.followed_tags = (await client.v1.followedTags.list()).map((t) => t.name);
  read.featuring = (await tag.feature()).featuring;
  const featured = await client.v1.featuredTags.list();
  read.featured = featured.map((t) => t.name);
  read.featured_of_account = (await client.v1.accounts.$select(me.id).featuredTags.list()).map((t) => t.name);
  await client.v1.featuredTags.$select(featured[0].id).remove();
  read.featured_after = (await client.v1.featuredTags.list()).length;
  read.suggested_tags = (await client.v1.featuredTags.suggestions.list()).map((t) => t.name);
  read.unfollowed = (await tag.unfollow()).following;

  // Trends, from this server's own activity: two accounts use the tag,
  // and the signed-in one likes the other's post.
  await client.v1.statuses.create({ status: "me too #PerchTrend" });
  await client.v1.statuses.$select(tagged.id).favourite();
  read.trending_tags = (await client.v1.trends.tags.list()).map((t) => [t.name, t.history.length]);
  read.trending_statuses = (await client.v1.trends.statuses.list()).map((s) => s.id);
  read.trending_links = (await client.v1.trends.links.list()).length;

  // Suggestions: the other account posted lately, and goes once dismissed.
  const suggested = await client.v2.suggestions.list();
  read.suggested = suggested.map((s) => [s.account.id === them.id, s.sources]);
  await client.v1.suggestions.$select(them.id).remove();
  read.suggested_after = (await client.v2.suggestions.list()).filter((s) => s.account.id === them.id).length;

  read.custom_emojis = (await client.v1.customEmojis.list()).map((e) => [e.shortcode, e.visibleInPicker]);
  read.peers = await client.v1.instance.peers.list();
  read.activity = (await client.v1.instance.activity.list()).map((week) => typeof week.statuses);
  const block = await client.v1.admin.domainBlocks.create({
    domain: "spam.example",
    severity: "suspend",
    publicComment: "spam",
  });
  read.domain_blocks = (await client.v1.instance.domainBlocks.fetch()).map((b) => [b.domain, b.severity, b.comment]);
  await client.v1.admin.domainBlocks.$select(block.id).remove();

  // Web Push: the server's VAPID key, then a subscription made, read,
  // changed and removed.
  const instance = await client.v2.instance.fetch();
  read.vapid = typeof instance.configuration?.vapid?.publicKey;
  const keys = createECDH("prime256v1");
  keys.generateKeys();
  const subscribed = await client.v1.push.subscription.create({
    subscription: {
      endpoint: `${url}/push-endpoint-that-does-not-exist`,
      keys: {
        p256dh: keys.getPublicKey().toString("base64url"),
        auth: randomBytes(16).toString("base64url"),
      },
    },
    data: { alerts: { mention: true, follow: false } },
    policy: "followed",
  });
  read.push_created = [subscribed.alerts.mention, subscribed.alerts.follow, subscribed.policy];
  read.push_key = subscribed.serverKey === instance.configuration?.vapid?.publicKey;
  const changed = await client.v1.push.subscription.update({ data: { alerts: { follow: true } } });
  read.push_changed = [changed.alerts.mention, changed.alerts.follow];
  read.push_fetched = (await client.v1.push.subscription.fetch()).id === subscribed.id;
  await client.v1.push.subscription.remove();
  try {
    await client.v1.push.subscription.fetch();
    read.push_removed = false;
  } catch (error) {
    read.push_removed = error?.statusCode === 404;
  }

  // Posting defaults, kept in the credentials' source.
  const updated = await client.v1.accounts.updateCredentials({
    source: { privacy: "unlisted", language: "de" },
  });
  read.source = [updated.source.privacy, updated.source.language];
  const preferences = await client.v1.preferences.fetch();
  read.preferences = [preferences["posting:default:visibility"], preferences["posting:default:language"]];
  const defaulted = await client.v1.statuses.create({ status: "with my defaults" });
  read.defaulted = [defaulted.visibility, defaulted.language];

  // The public media stream carries the post with a picture, not the one
  // without.
  const streaming = createStreamingAPIClient({
    streamingApiUrl: instance.configuration.urls.streaming,
    accessToken,
  });
  const events = streaming.public.media.subscribe().values();
  const pictured = [];
  const live = await firstEvent(
    events,
    (event) => event.event === "update",
    async (attempt) => {
      const media = await poster.v2.media.create({
        file: new Blob([readFileSync(picture)], { type: "image/png" }),
        description: "a dot",
      });
      await poster.v1.statuses.create({ status: `words ${attempt}` });
      const status = await poster.v1.statuses.create({ status: `picture ${attempt}`, mediaIds: [media.id] });
      pictured.push(status.id);
    },
  );
  read.media_stream = live && [
    live.stream,
    pictured.includes(live.payload.id),
    live.payload.mediaAttachments.length,
  ];

  // The local hashtag stream, through the library's own subscription.
  const tagged_events = streaming.hashtag.local.subscribe({ tag: "LiveTag" }).values();
  const tagged_live = [];
  const tag_event = await firstEvent(
    tagged_events,
    (event) => event.event === "update",
    async (attempt) => {
      const status = await poster.v1.statuses.create({ status: `#livetag ${attempt}` });
      tagged_live.push(status.id);
    },
  );
  read.hashtag_local_stream = tag_event && [tag_event.stream, tagged_live.includes(tag_event.payload.id)];
  streaming.close();

  // Pins: one's own post pinned, listed with pinned=true, then unpinned.
  const pinned = await client.v1.statuses.$select(defaulted.id).pin();
  read.pinned = pinned.pinned;
  read.pinned_listed = (await client.v1.accounts.$select(me.id).statuses.list({ pinned: true })).map(
    (status) => status.id === defaulted.id,
  );
  read.unpinned = (await client.v1.statuses.$select(defaulted.id).unpin()).pinned;
  return read;
}

await run("masto.js (discovery)", url, main);

//! Flag: a report forwarded to the reported account's server, as Mastodon
//! sends it: from the instance actor (the reporter stays unnamed), naming
//! the account and the reported statuses in `object`, the comment in
//! `content`.

use perch_core::outbound::FlagNote;
use serde_json::{Value, json};

use super::AS_CONTEXT;

pub fn build_flag(flag: &FlagNote) -> Value {
    let mut object = vec![Value::String(flag.target.uri.clone())];
    object.extend(flag.statuses.iter().cloned().map(Value::String));
    json!({
        "@context": AS_CONTEXT,
        "id": flag.uri,
        "type": "Flag",
        "actor": flag.actor.uri,
        "content": flag.content,
        "object": object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activities::test_actor as actor;

    #[test]
    fn a_flag_names_the_account_then_the_statuses() {
        let flag = FlagNote {
            uri: "https://here.example/activities/7".to_owned(),
            actor: actor("https://here.example/actor", None),
            target: actor("https://there.example/users/spam", Some("there.example")),
            statuses: vec!["https://there.example/notes/1".to_owned()],
            content: "spam <b>links</b>".to_owned(),
        };
        let body = build_flag(&flag);
        assert_eq!(body["type"], "Flag");
        assert_eq!(body["actor"], "https://here.example/actor");
        assert_eq!(
            body["object"],
            json!([
                "https://there.example/users/spam",
                "https://there.example/notes/1"
            ])
        );
        assert_eq!(body["content"], "spam <b>links</b>");
    }
}

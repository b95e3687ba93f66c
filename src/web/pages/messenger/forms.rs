//! What the messenger's forms, links and live script send: the fields of its forms and queries,
//! and the actions named in its paths.

use std::fmt;

use nosebook_schema::ids::{UserId, parse_go_uuid};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The send box, a message's edit, and a group's settings (rename: `title`, add a member: `user`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextForm {
    pub text: String,
    pub title: String,
    pub user: String,
}

/// The new-group form: a title, and `member` once per chosen friend. Read field by field because
/// a key comes more than once; the last title counts, and a member that is no user id is left out.
#[derive(Debug, Default, PartialEq)]
pub struct GroupForm {
    pub title: String,
    pub members: Vec<UserId>,
}

impl<'de> Deserialize<'de> for GroupForm {
    fn deserialize<D: Deserializer<'de>>(fields: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = GroupForm;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a new group's title and members")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GroupForm, A::Error> {
                let mut form = GroupForm::default();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    match key.as_str() {
                        "title" => form.title = value,
                        "member" => form.members.extend(parse_go_uuid(&value).ok().map(UserId)),
                        _ => {}
                    }
                }
                Ok(form)
            }
        }

        fields.deserialize_map(Fields)
    }
}

/// `/messenger/{id}/{action}`: a group's settings (rename, add a member, leave) and what the live
/// script reports of any open chat (the caller typing, a message read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatAction {
    Rename,
    Members,
    Typing,
    Read,
    Leave,
}

/// `/messenger/{id}/messages/{message}/{action}`: the author's own menu of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageAction {
    Edit,
    Remove,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub open: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EarlierQuery {
    pub before: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::pages::{PageError, parse_action};
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, MapDeserializer};

    #[test]
    fn a_new_group_takes_every_member_and_skips_what_is_no_id() {
        let anna = uuid::Uuid::new_v4();
        let boris = uuid::Uuid::new_v4();
        let pairs = [
            ("title", "first".to_owned()),
            ("member", anna.to_string()),
            ("member", "not an id".to_owned()),
            ("other", "ignored".to_owned()),
            ("member", boris.to_string()),
            ("title", "Hikers".to_owned()),
        ];
        let fields: MapDeserializer<'_, _, Error> =
            MapDeserializer::new(pairs.into_iter().map(|(k, v)| (k, v.into_deserializer())));
        let form = GroupForm::deserialize(fields).unwrap();
        assert_eq!(form, GroupForm { title: "Hikers".into(), members: vec![UserId(anna), UserId(boris)] });
    }

    #[test]
    fn actions_are_the_words_of_their_paths_and_nothing_else() {
        assert_eq!(parse_action::<ChatAction>("typing").ok(), Some(ChatAction::Typing));
        assert_eq!(parse_action::<ChatAction>("read").ok(), Some(ChatAction::Read));
        assert_eq!(parse_action::<ChatAction>("members").ok(), Some(ChatAction::Members));
        assert_eq!(parse_action::<MessageAction>("remove").ok(), Some(MessageAction::Remove));
        for unknown in ["Typing", "type", "", "edit", "rename "] {
            assert!(matches!(parse_action::<ChatAction>(unknown), Err(PageError::NotFound)), "{unknown:?}");
        }
        assert!(matches!(parse_action::<MessageAction>("leave"), Err(PageError::NotFound)));
    }
}

//! What people write: posts, comments, messages and friend-request notes (docs/API.md §0.4).

/// Post, comment and message text: 1 to 4096 characters after trimming; stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

pub const TEXT_MAX_CHARS: usize = 4096;
pub const NOTE_MAX_CHARS: usize = 256;

impl Text {
    /// `field` names the JSON field in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, String> {
        let text = raw.trim();
        match text.chars().count() {
            0 => Err(format!("{field} must not be empty")),
            n if n > TEXT_MAX_CHARS => Err(format!("{field} must be at most {TEXT_MAX_CHARS} characters (got {n})")),
            _ => Ok(Self(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The note on a friend request: optional, at most 256 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub fn parse(raw: &str, field: &str) -> Result<Self, String> {
        let note = raw.trim();
        let n = note.chars().count();
        if n > NOTE_MAX_CHARS {
            return Err(format!("{field} must be at most {NOTE_MAX_CHARS} characters (got {n})"));
        }
        Ok(Self(note.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_count_characters_after_trimming() {
        assert_eq!(Text::parse("  hi \n", "message").unwrap().as_str(), "hi");
        assert!(Text::parse(" \n\t ", "message").unwrap_err().contains("must not be empty"));
        assert!(Text::parse(&"ж".repeat(4096), "message").is_ok());
        assert!(Text::parse(&"ж".repeat(4097), "message").unwrap_err().contains("at most 4096"));
    }

    #[test]
    fn notes_may_be_empty_but_not_long() {
        assert_eq!(Note::parse("", "message").unwrap().into_inner(), "");
        assert!(Note::parse(&"a".repeat(257), "message").is_err());
    }
}

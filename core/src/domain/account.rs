//! Account fields: names, nicks and passwords.

/// Which command a field belongs to; the original's messages name it
/// (`Key: 'RegisterUserCommand.Nick' …`).
#[derive(Debug, Clone, Copy)]
pub enum Form {
    Register,
    Login,
    ChangePassword,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Self::Register => "RegisterUserCommand",
            Self::Login => "LoginCommand",
            Self::ChangePassword => "ChangePasswordCommand",
        }
    }
}

/// One field's problem.
#[derive(Debug, Clone)]
pub struct Problem {
    form: Form,
    /// The field as the original's commands name it: `FirstName`, `Nick`, `OldPassword`, …
    pub field: &'static str,
    /// Missing, rather than present and breaking `rule`.
    pub required: bool,
    rule: &'static str,
}

/// The original's wording: `Key: 'RegisterUserCommand.Nick' Error:…`.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (form, field) = (self.form.name(), self.field);
        if self.required {
            write!(f, "Key: '{form}.{field}' Error:Field validation for '{field}' failed on the 'required' tag")
        } else {
            write!(f, "Key: '{form}.{field}' Error:{field} {}", self.rule)
        }
    }
}

/// Collects every problem of a form, so the client sees them all at once.
#[derive(Debug, Default, Clone)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn required(&mut self, form: Form, field: &'static str) {
        self.0.push(Problem { form, field, required: true, rule: "" });
    }

    fn invalid(&mut self, form: Form, field: &'static str, rule: &'static str) {
        self.0.push(Problem { form, field, required: false, rule });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
}

/// Every problem, one per line.
impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

pub const NAME_MAX_CHARS: usize = 64;
pub const NICK_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
pub const PASSWORD_BYTES: std::ops::RangeInclusive<usize> = 8..=256;

/// A first or last name: 1 to 64 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str, form: Form, field: &'static str, problems: &mut Problems) -> Option<Self> {
        let name = raw.trim();
        if name.is_empty() {
            problems.required(form, field);
            return None;
        }
        if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
            problems.invalid(form, field, "must be 1 to 64 characters without control characters");
            return None;
        }
        Some(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A nick: 3 to 32 of `A-Z a-z 0-9 _ .`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nick(String);

impl Nick {
    pub fn parse(raw: &str, form: Form, problems: &mut Problems) -> Option<Self> {
        if raw.is_empty() {
            problems.required(form, "Nick");
            return None;
        }
        let allowed = raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !NICK_CHARS.contains(&raw.len()) || !allowed {
            problems.invalid(form, "Nick", "must be 3 to 32 characters of A-Z, a-z, 0-9, '_' and '.'");
            return None;
        }
        Some(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 8 to 256 bytes for new accounts. At login only presence and the upper bound are
/// checked, so accounts from the original with shorter passwords can still sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(raw: &str, form: Form, problems: &mut Problems) -> Option<Self> {
        Self::parse_field(raw, form, "Password", matches!(form, Form::Register), problems)
    }

    /// `chosen`: a password being chosen now must be 8 to 256 bytes; one being checked only
    /// has the upper bound (accounts from before the rule keep working).
    pub fn parse_field(
        raw: &str,
        form: Form,
        field: &'static str,
        chosen: bool,
        problems: &mut Problems,
    ) -> Option<Self> {
        if raw.is_empty() {
            problems.required(form, field);
            return None;
        }
        let fits = if chosen { PASSWORD_BYTES.contains(&raw.len()) } else { raw.len() <= *PASSWORD_BYTES.end() };
        if !fits {
            problems.invalid(form, field, "must be 8 to 256 bytes");
            return None;
        }
        Some(Self(raw.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(f: impl FnOnce(&mut Problems)) -> String {
        let mut p = Problems::default();
        f(&mut p);
        assert!(!p.is_empty());
        p.to_string()
    }

    #[test]
    fn required_fields_use_the_original_wording() {
        let msg = problems_of(|p| {
            PersonName::parse("  ", Form::Register, "FirstName", p);
            Nick::parse("", Form::Register, p);
        });
        assert_eq!(
            msg,
            "Key: 'RegisterUserCommand.FirstName' Error:Field validation for 'FirstName' failed on the 'required' tag\n\
             Key: 'RegisterUserCommand.Nick' Error:Field validation for 'Nick' failed on the 'required' tag"
        );
    }

    #[test]
    fn limits() {
        let mut p = Problems::default();
        assert!(Nick::parse("ab", Form::Register, &mut p).is_none());
        assert!(Nick::parse("no spaces", Form::Register, &mut p).is_none());
        assert!(Nick::parse(&"a".repeat(33), Form::Register, &mut p).is_none());
        assert!(Nick::parse("ok_nick.1", Form::Register, &mut p).is_some());
        assert!(PersonName::parse(&"й".repeat(64), Form::Register, "LastName", &mut p).is_some());
        assert!(PersonName::parse(&"й".repeat(65), Form::Register, "LastName", &mut p).is_none());
        assert!(Password::parse("1234567", Form::Register, &mut p).is_none());
        assert!(Password::parse("1234567", Form::Login, &mut p).is_some());
        assert!(Password::parse(&"x".repeat(257), Form::Login, &mut p).is_none());
        assert_eq!(p.0.len(), 6);
    }

    #[test]
    fn passwords_do_not_leak_through_debug() {
        let mut p = Problems::default();
        let pw = Password::parse("hunter2hunter2", Form::Register, &mut p).unwrap();
        assert_eq!(format!("{pw:?}"), "Password(***)");
    }
}

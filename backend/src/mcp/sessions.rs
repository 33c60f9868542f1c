//! MCP sessions bound to the user who opened them. rmcp hands out a random session ID; the
//! client is given `ID.TAG` instead, where TAG is an HMAC of the user and the ID under a key
//! this process made. Another user who learns the ID can't use, watch or end the session, and
//! nothing needs storing: rmcp's sessions live in this process's memory, and so does the key.

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::auth::UserId;

/// Signs and checks the session IDs handed to MCP clients.
pub struct SessionBinding {
    key: [u8; 32],
}

impl Default for SessionBinding {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self { key }
    }
}

impl SessionBinding {
    /// The session ID to give `user` for rmcp's `session_id`.
    pub fn bind(&self, user: &UserId, session_id: &str) -> String {
        format!("{session_id}.{}", hex::encode(self.mac(user, session_id).finalize().into_bytes()))
    }

    /// rmcp's session ID inside `presented`, if `user` was the one it was given to.
    pub fn unbind<'a>(&self, user: &UserId, presented: &'a str) -> Option<&'a str> {
        let (session_id, tag) = presented.rsplit_once('.')?;
        let tag = hex::decode(tag).ok()?;
        self.mac(user, session_id).verify_slice(&tag).ok()?;
        Some(session_id)
    }

    fn mac(&self, user: &UserId, session_id: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        // The user ID has a fixed alphabet without NUL, so the two parts can't run together.
        mac.update(user.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(session_id.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("a user ID")
    }

    #[test]
    fn the_user_who_opened_a_session_gets_its_id_back() {
        let binding = SessionBinding::default();
        let ada = user("00000000-0000-4000-8000-000000000001");
        let given = binding.bind(&ada, "8c1d-session");
        assert_eq!(binding.unbind(&ada, &given), Some("8c1d-session"));
    }

    #[test]
    fn another_user_or_a_bare_or_altered_id_is_refused() {
        let binding = SessionBinding::default();
        let ada = user("00000000-0000-4000-8000-000000000001");
        let bob = user("00000000-0000-4000-8000-000000000002");
        let given = binding.bind(&ada, "8c1d-session");
        assert_eq!(binding.unbind(&bob, &given), None);
        assert_eq!(binding.unbind(&ada, "8c1d-session"), None);
        assert_eq!(binding.unbind(&ada, &given.replace("8c1d", "9c1d")), None);
        assert_eq!(binding.unbind(&ada, "8c1d-session.zz"), None);
        assert_eq!(SessionBinding::default().unbind(&ada, &given), None, "a restarted server knows no old session");
    }
}

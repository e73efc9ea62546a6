//! `GET /api/me` without the database, most of the time: what it answers
//! for a session is kept in memory once read. It is the hottest signed-in
//! request (the app asks it on every load and after every renewal), and
//! reading the row cost more than all the rest of the request: on SQLite a
//! trip to the driver's thread and back for the query and for each of the
//! pool's checks (~6 context switches).
//!
//! Why an answer kept for a session cannot go stale: of what it shows, only
//! the name and the address can change while a session lives. The name
//! changes only through `Accounts::rename` (`PATCH /api/me`), the address
//! only through the lifecycle service's confirmation or undo of a change
//! of address; each forgets the account's entries before it answers (and
//! a deleted account's sessions are refused before this cache is asked).
//! A change of role or status ends every session of the account, and the
//! bearer extractor refuses their tokens before this cache is asked;
//! entries are per session, so the next sign-in reads the account afresh.
//! A read that overlaps a rename is not kept (see [`Ticket`]).
//!
//! Only where this instance is the only one, which is on SQLite (it cannot
//! be shared). With PostgreSQL another instance may rename the user, and no
//! announcement could reach this one before that instance's answer reaches
//! the client, so every request reads the row there.
//!
//! And as a last resort an entry is read again after [`MAX_AGE`]: a change
//! made beside the server (the `admin` command on the same SQLite file) is
//! seen within that time, as are the revocations that command makes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use app::api::{
    types::User,
    values::{SessionId, UserId},
};

/// How long an entry is trusted: the interval at which every instance
/// reconciles its revoked sessions with the database.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// More sessions than this at once and the cache starts again, empty.
const MAX_ENTRIES: usize = 4096;

#[derive(Clone)]
pub struct MeCache {
    /// `None` where other instances share the database.
    state: Option<Arc<Mutex<State>>>,
}

#[derive(Default)]
struct State {
    /// Counts the forgetting: a read that started before one is not kept.
    epoch: u64,
    entries: HashMap<SessionId, Entry>,
}

struct Entry {
    user: User,
    read_at: Instant,
}

/// What the cache holds for a session.
pub enum Lookup {
    Kept(User),
    /// Nothing: read the account, then [`MeCache::keep`] it with this.
    Missing(Ticket),
}

/// Taken before the database is read, and required to keep what was read:
/// a rename that lands between the read and the keeping makes it void,
/// since the read may have seen the row before the rename.
pub struct Ticket {
    epoch: Option<u64>,
}

impl MeCache {
    /// A cache that keeps nothing unless `only_instance`.
    pub fn new(only_instance: bool) -> Self {
        Self {
            state: only_instance.then(Arc::default),
        }
    }

    /// The kept answer for `session` of `user_id`, or the ticket with which
    /// to keep the one about to be read.
    pub fn get(&self, session: SessionId, user_id: UserId) -> Lookup {
        let Some(state) = self.lock() else {
            return Lookup::Missing(Ticket { epoch: None });
        };
        match state.entries.get(&session) {
            Some(entry) if entry.user.id == user_id && entry.read_at.elapsed() < MAX_AGE => {
                Lookup::Kept(entry.user.clone())
            }
            _ => Lookup::Missing(Ticket {
                epoch: Some(state.epoch),
            }),
        }
    }

    /// Keeps `user`, read after `ticket` was taken, for `session`.
    pub fn keep(&self, ticket: Ticket, session: SessionId, user: &User) {
        let (Some(epoch), Some(mut state)) = (ticket.epoch, self.lock()) else {
            return;
        };
        if state.epoch != epoch {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
        }
        state.entries.insert(
            session,
            Entry {
                user: user.clone(),
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets every answer about `user_id`; call after a change to the
    /// account is committed and before answering.
    pub fn forget_user(&self, user_id: UserId) {
        if let Some(mut state) = self.lock() {
            state.epoch += 1;
            state.entries.retain(|_, entry| entry.user.id != user_id);
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, State>> {
        self.state.as_ref().map(|state| {
            state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
    }
}

#[cfg(test)]
mod tests {
    use app::api::values::{DisplayName, Email, Role};

    use super::*;

    fn user(n: u128, name: &str) -> User {
        User {
            id: UserId::from_uuid(uuid::Uuid::from_u128(n)),
            email: Email::parse(&format!("u{n}@example.com")).unwrap(),
            name: DisplayName::parse(name).unwrap(),
            role: Role::User,
            email_verified: true,
            disabled: false,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn session(n: u128) -> SessionId {
        SessionId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn missing(lookup: Lookup) -> Ticket {
        match lookup {
            Lookup::Missing(ticket) => ticket,
            Lookup::Kept(user) => panic!("unexpectedly kept {user:?}"),
        }
    }

    fn kept(lookup: Lookup) -> User {
        match lookup {
            Lookup::Kept(user) => user,
            Lookup::Missing(_) => panic!("nothing kept"),
        }
    }

    #[test]
    fn keeps_per_session_until_the_user_is_forgotten() {
        let cache = MeCache::new(true);
        let (ada, bob) = (user(1, "Ada"), user(2, "Bob"));
        for (n, who) in [(10, &ada), (11, &ada), (20, &bob)] {
            let ticket = missing(cache.get(session(n), who.id));
            cache.keep(ticket, session(n), who);
        }
        assert_eq!(kept(cache.get(session(10), ada.id)), ada);
        // A session answers only for the user its token names.
        missing(cache.get(session(10), bob.id));

        cache.forget_user(ada.id);
        missing(cache.get(session(10), ada.id));
        missing(cache.get(session(11), ada.id));
        assert_eq!(kept(cache.get(session(20), bob.id)), bob);
    }

    #[test]
    fn a_read_that_overlaps_a_change_is_not_kept() {
        let cache = MeCache::new(true);
        let ada = user(1, "Ada");
        let ticket = missing(cache.get(session(10), ada.id));
        // The rename commits and forgets while the old row is being read.
        cache.forget_user(ada.id);
        cache.keep(ticket, session(10), &ada);
        missing(cache.get(session(10), ada.id));
    }

    #[test]
    fn with_other_instances_nothing_is_kept() {
        let cache = MeCache::new(false);
        let ada = user(1, "Ada");
        let ticket = missing(cache.get(session(10), ada.id));
        cache.keep(ticket, session(10), &ada);
        missing(cache.get(session(10), ada.id));
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = MeCache::new(true);
        let ada = user(1, "Ada");
        for n in 0..=MAX_ENTRIES as u128 {
            let ticket = missing(cache.get(session(n), ada.id));
            cache.keep(ticket, session(n), &ada);
        }
        missing(cache.get(session(0), ada.id));
        kept(cache.get(session(MAX_ENTRIES as u128), ada.id));
    }
}

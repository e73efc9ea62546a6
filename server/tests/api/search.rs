//! Searching the lists by any part of an email address or a name, at a size
//! where the substring indexes answer: thousands of filler rows, more than
//! a search on SQLite walks through before it asks the index for more of a
//! term's trigrams, with the rows to find placed among or after them. What a search finds must not depend
//! on which way it was answered.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*, search_rows::*};

both_backends!(
    search_finds_any_part_literally_through_the_index,
    search_pages_through_the_index_without_gaps_or_repeats,
    people_search_follows_edits_and_deletes,
    user_search_follows_renames,
    short_and_common_searches_page_in_list_order,
    a_rare_term_made_of_common_ends_is_found_in_and_past_the_window,
    a_crowded_second_pages_in_id_order,
);

async fn search_finds_any_part_literally_through_the_index(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("finder").await;
    fill(&app, backend, "people", PAST_THE_WINDOW, 1_000).await;
    let needles = [
        ("Annabelle Kowalczyk", "anna.k@example.com"),
        ("Jürgen Straße", "juergen@example.com"),
        ("Émile ÖZTÜRK", "emile@example.com"),
        ("ΣΊΣΥΦΟΣ Ωρα", "sisyphus@example.com"),
        ("Percent 50% Off", "percent@example.com"),
        ("Under_Score", "under@example.com"),
        ("Underxscore", "decoy@example.com"),
        ("Back\\Slash", "back@example.com"),
        ("O'Brien \"Quoted\"", "obrien@example.com"),
        ("Mail Only", "hidden.treasure@example.net"),
    ];
    for (n, (name, email)) in (1..).zip(needles) {
        insert_person(&app, n, name, email, 10_000 + i64::from(n)).await;
    }
    for (q, expected) in [
        ("owalcz", vec!["Annabelle Kowalczyk"]),
        ("KOWALCZYK", vec!["Annabelle Kowalczyk"]),
        ("belle kow", vec!["Annabelle Kowalczyk"]),
        ("treasure@exa", vec!["Mail Only"]),
        ("EXAMPLE.NET", vec!["Mail Only"]),
        ("JÜRGEN", vec!["Jürgen Straße"]),
        ("straße", vec!["Jürgen Straße"]),
        // Upper-case letters beyond ASCII in the row, not only in the term.
        ("émile", vec!["Émile ÖZTÜRK"]),
        ("öztürk", vec!["Émile ÖZTÜRK"]),
        ("ÉMILE Ö", vec!["Émile ÖZTÜRK"]),
        ("σίσυφο", vec!["ΣΊΣΥΦΟΣ Ωρα"]),
        ("ωρα", vec!["ΣΊΣΥΦΟΣ Ωρα"]),
        // Shorter than a trigram: read in list order, folded the same way.
        ("ém", vec!["Émile ÖZTÜRK"]),
        ("ö", vec!["Émile ÖZTÜRK"]),
        // ASCII terms among such letters.
        ("mile", vec!["Émile ÖZTÜRK"]),
        ("zt", vec!["Émile ÖZTÜRK"]),
        ("50%", vec!["Percent 50% Off"]),
        ("% o", vec!["Percent 50% Off"]),
        ("r_s", vec!["Under_Score"]),
        ("k\\s", vec!["Back\\Slash"]),
        ("o'b", vec!["O'Brien \"Quoted\""]),
        ("\"quoted\"", vec!["O'Brien \"Quoted\""]),
        ("n \"q", vec!["O'Brien \"Quoted\""]),
        ("zzz-nowhere", vec![]),
        // The address's end and the name's start: in neither column.
        ("example.com\nannabelle", vec![]),
        ("@example.com annabelle", vec![]),
        ("someone99@example.com", vec![]),
    ] {
        assert_eq!(
            names(&app, &user.access_token, "people", q, 20).await,
            expected,
            "{q}"
        );
    }
}

async fn search_pages_through_the_index_without_gaps_or_repeats(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("pager").await;
    let start = 1_000;
    for table in ["people", "users"] {
        fill(&app, backend, table, 5 * PAST_THE_WINDOW, start).await;
    }
    // Five matches, each more than a window after the one before, and two
    // created in the same second (ties are broken by id).
    let at = |k: i64| start + PAST_THE_WINDOW * k + PAST_THE_WINDOW / 2;
    let placed = [at(0), at(1), at(2), at(2), at(3)];
    let mut expected = Vec::new();
    for (n, created_at) in (1..).zip(placed) {
        let name = format!("Needle Walczyk {n}");
        insert_person(
            &app,
            n,
            &name,
            &format!("needle{n}@example.com"),
            created_at,
        )
        .await;
        app.execute(&format!(
            "INSERT INTO users (id, email, password_hash, name, role, email_verified_at, created_at, updated_at) \
             VALUES ('11111111-0000-4000-8000-{n:012}', 'needle{n}@example.com', 'x', '{name}', 'user', 1, \
                     {created_at}, {created_at})"
        ))
        .await;
        expected.push(name);
    }
    for list in ["people", "users"] {
        for limit in [1, 2, 3] {
            assert_eq!(
                names(&app, &admin.access_token, list, "walczyk", limit).await,
                expected,
                "{list}, {limit} a page"
            );
        }
        assert_eq!(
            names(&app, &admin.access_token, list, "EDLE W", 2).await,
            expected
        );
    }
}

async fn people_search_follows_edits_and_deletes(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("editor").await;
    fill(&app, backend, "people", PAST_THE_WINDOW, 1_000).await;
    let mut ids = Vec::new();
    for body in [
        json!({"name": "Annabelle Kowalczyk", "email": "anna@example.com"}),
        json!({"name": "Bruno Kowalczyk"}),
    ] {
        let response = app
            .send_with_token(
                Method::POST,
                "/api/people",
                &admin.access_token,
                Some(&body),
            )
            .await;
        assert_eq!(response.status(), 201);
        let person: Value = response.json().await.unwrap();
        ids.push(person["id"].as_str().unwrap().to_owned());
    }
    let token = &admin.access_token;
    // Created in the same second: in the order of their random ids.
    let mut both = names(&app, token, "people", "walczy", 20).await;
    both.sort();
    assert_eq!(both, ["Annabelle Kowalczyk", "Bruno Kowalczyk"]);

    let renamed = app
        .client
        .put(app.url(&format!("/api/people/{}", ids[0])))
        .bearer_auth(token)
        .header("if-match", "\"v1\"")
        .json(&json!({"name": "Beatrix Quillfeather", "email": "beatrix@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        names(&app, token, "people", "walczy", 20).await,
        ["Bruno Kowalczyk"]
    );
    assert_eq!(names(&app, token, "people", "anna@", 20).await, [""; 0]);
    for q in ["quillfeat", "trix q", "beatrix@example"] {
        assert_eq!(
            names(&app, token, "people", q, 20).await,
            ["Beatrix Quillfeather"],
            "{q}"
        );
    }

    let deleted = app
        .send_with_token(
            Method::DELETE,
            &format!("/api/people/{}", ids[0]),
            token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(names(&app, token, "people", "quillfeat", 20).await, [""; 0]);
    assert_eq!(
        names(&app, token, "people", "walczy", 20).await,
        ["Bruno Kowalczyk"]
    );
}

async fn user_search_follows_renames(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("searcher").await;
    // Named "Old Name", with the address oldname.…@example.com.
    let user = app.signed_in("Old Name").await;
    fill(&app, backend, "users", PAST_THE_WINDOW, 1_000).await;
    let token = &admin.access_token;
    assert_eq!(
        names(&app, token, "users", "OLD NAME", 20).await,
        ["Old Name"]
    );

    let response = app
        .send_with_token(
            Method::PATCH,
            "/api/me",
            &user.access_token,
            Some(&json!({"name": "Zebulon Fairweather"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    for q in ["fairweat", "ON FAIR"] {
        assert_eq!(
            names(&app, token, "users", q, 20).await,
            ["Zebulon Fairweather"],
            "{q}"
        );
    }
    // Still found by the address, no longer by the old name.
    let local = user.email.split('@').next().unwrap();
    assert_eq!(
        names(&app, token, "users", local, 20).await,
        ["Zebulon Fairweather"]
    );
    assert_eq!(names(&app, token, "users", "old name", 20).await, [""; 0]);
}

async fn short_and_common_searches_page_in_list_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("reader").await;
    let count = PAST_THE_WINDOW;
    fill(&app, backend, "people", count, 1_000).await;
    // Among the fillers (the later ones share a second with a filler).
    insert_person(
        &app,
        1,
        "Annabelle Kowalczyk",
        "anna.k@example.com",
        1_000 + 10,
    )
    .await;
    insert_person(&app, 2, "Kasia", "kasia@example.com", 1_000 + 1_500).await;
    insert_person(&app, 3, "Kuba", "kuba@example.com", 1_000 + 2_099).await;
    let token = &user.access_token;
    let all = ["Annabelle Kowalczyk", "Kasia", "Kuba"];
    for limit in [1, 2, 20] {
        assert_eq!(names(&app, token, "people", "K", limit).await, all);
    }
    assert_eq!(names(&app, token, "people", "yk", 20).await, all[..1]);
    assert_eq!(names(&app, token, "people", "ub", 20).await, all[2..]);
    assert_eq!(names(&app, token, "people", "q", 20).await, [""; 0]);

    // A term most rows contain, and one that thins out: every match in
    // order, whichever way each page was found.
    for q in ["someone", "one1", "e19", "@example.org"] {
        let expected: Vec<String> = (0..count)
            .map(filler)
            .filter(|(name, email)| name.to_lowercase().contains(q) || email.contains(q))
            .map(|(name, _)| name)
            .collect();
        assert!(!expected.is_empty(), "{q}");
        for limit in [13, 100] {
            assert_eq!(
                names(&app, token, "people", q, limit).await,
                expected,
                "{q}, {limit} a page"
            );
        }
    }
}

/// A term whose first and last trigrams every row holds, while only two
/// rows hold the term: one among the first thousand rows, one after them.
/// (On SQLite: too many candidates for the first step to fill a page, so
/// the second answers.)
async fn a_rare_term_made_of_common_ends_is_found_in_and_past_the_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("seeker").await;
    fill(&app, backend, "people", PAST_THE_WINDOW, 1_000).await;
    insert_person(&app, 1, "First Needle", "someone@example.org", 1_000 + 5).await;
    let past = 1_000 + PAST_THE_WINDOW + 5;
    insert_person(&app, 2, "Second Needle", "someone@example.org", past).await;
    let token = &user.access_token;
    for q in ["someone@example.org", "SOMEONE@EXAMPLE.ORG"] {
        for limit in [1, 20] {
            assert_eq!(
                names(&app, token, "people", q, limit).await,
                ["First Needle", "Second Needle"],
                "{q}, {limit} a page"
            );
        }
    }
    assert_eq!(
        names(&app, token, "people", "someone@example.orgx", 20).await,
        [""; 0]
    );
}

/// Sixty matches created in one second, among fillers created in it and
/// around it: every page takes the next ones in id order, however small,
/// however many candidates that second has (on SQLite the index hands them
/// out by creation second, a few at first).
async fn a_crowded_second_pages_in_id_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("crowd").await;
    let second = 1_000 + PAST_THE_WINDOW / 2;
    fill(&app, backend, "people", PAST_THE_WINDOW, 1_000).await;
    // In the crowded second too: fillers that hold the term's ends only.
    for n in (1..=60).rev() {
        insert_person(&app, n, &format!("Crowd Walczyk {n:02}"), "", second).await;
        let decoy = 100 + n;
        insert_person(&app, decoy, &format!("Crowd Wal {n:02} czyk"), "", second).await;
    }
    insert_person(&app, 99, "Crowd Walczyk late", "", second + 1).await;
    let mut expected: Vec<String> = (1..=60).map(|n| format!("Crowd Walczyk {n:02}")).collect();
    expected.push("Crowd Walczyk late".into());
    for limit in [1, 7, 20, 100] {
        assert_eq!(
            names(&app, &user.access_token, "people", "walczyk", limit).await,
            expected,
            "{limit} a page"
        );
    }
}

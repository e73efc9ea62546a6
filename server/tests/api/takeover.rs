//! The account-takeover attacks of the review, tried against the real
//! server: a second sign-up of someone else's address, and sessions that
//! outlive (or straddle) the change that should end them. The credential
//! epoch is what the second set exercises: opening and rotating a session
//! succeed only while the account's epoch is the one the session was
//! opened under, and each change raises it in the transaction that ends
//! the sessions.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    a_second_sign_up_cannot_take_the_owners_address,
    signing_up_first_gains_the_squatter_nothing,
    two_sign_ups_confirmed_at_once_make_one_account,
    sign_ins_racing_a_password_reset_leave_nothing_alive,
    sign_ins_racing_a_disable_leave_nothing_alive,
    sign_ins_racing_a_demotion_carry_no_old_role,
    a_refresh_after_a_disable_is_refused_and_the_session_is_gone,
    changing_the_password_keeps_only_the_callers_session,
);

const OTHER_PASSWORD: &str = "Attacker-Chosen-Pass-31";

/// The review's attack: the owner signs up, someone else signs the same
/// address up with another password, and the owner clicks a link in their
/// inbox. Only the owner's password can ever sign in.
async fn a_second_sign_up_cannot_take_the_owners_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("owner");
    assert_eq!(
        app.register(&email, STRONG_PASSWORD, "Owner")
            .await
            .status(),
        202
    );
    assert_eq!(
        app.register(&email, OTHER_PASSWORD, "Attacker")
            .await
            .status(),
        202
    );
    let owners_link = app.verification_token(&email, 1).await;
    let attackers_link = app.verification_token(&email, 2).await;

    // The newest link in the inbox is the attacker's sign-up: the owner's
    // password does not confirm it.
    let response = app.verify_email(&attackers_link, STRONG_PASSWORD).await;
    assert_problem(response, 422, "validation_failed").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // The owner's own link, with the owner's password.
    let response = app.verify_email(&owners_link, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["name"], "Owner");

    // The attacker's sign-up went with the confirmation.
    assert_problem(
        app.verify_email(&attackers_link, OTHER_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
    assert_problem(
        app.login(&email, OTHER_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.login(&email, STRONG_PASSWORD).await.status(), 200);
}

/// The reverse order: whoever signs up first and waits for the owner to
/// click gains nothing either.
async fn signing_up_first_gains_the_squatter_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("victim");
    app.register(&email, OTHER_PASSWORD, "Squatter").await;
    app.register(&email, STRONG_PASSWORD, "Owner").await;
    let squatters_link = app.verification_token(&email, 1).await;
    let owners_link = app.verification_token(&email, 2).await;

    assert_problem(
        app.verify_email(&squatters_link, STRONG_PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.verify_email(&owners_link, STRONG_PASSWORD)
            .await
            .status(),
        200
    );
    assert_problem(
        app.verify_email(&squatters_link, OTHER_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
    assert_problem(
        app.login(&email, OTHER_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["name"], "Owner");
}

async fn two_sign_ups_confirmed_at_once_make_one_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("twice");
    app.register(&email, STRONG_PASSWORD, "One").await;
    app.register(&email, OTHER_PASSWORD, "Two").await;
    let first = app.verification_token(&email, 1).await;
    let second = app.verification_token(&email, 2).await;
    let (one, two) = tokio::join!(
        app.verify_email(&first, STRONG_PASSWORD),
        app.verify_email(&second, OTHER_PASSWORD),
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_signups").await, 0);
}

/// What a racing sign-in got: its access token and refresh cookie.
#[derive(Clone)]
pub(crate) struct Racer {
    access_token: String,
    refresh_token: String,
}

/// Signs in `count` times at once while `change` runs, and returns the
/// sign-ins that were answered 200.
pub(crate) async fn sign_ins_racing<F>(
    app: &TestApp,
    email: &str,
    count: usize,
    change: F,
) -> Vec<Racer>
where
    F: std::future::Future<Output = ()>,
{
    let logins = join_all((0..count).map(|_| app.login(email, STRONG_PASSWORD)));
    let (responses, ()) = tokio::join!(logins, change);
    let mut racers = Vec::new();
    for response in responses {
        let status = response.status().as_u16();
        // 202: the password was right, and a second factor is asked for.
        assert!(
            [200, 202, 401, 403].contains(&status),
            "a racing sign-in answered {status}"
        );
        if status == 200 {
            let refresh_token = set_cookie(&response).unwrap().value;
            let body: Value = response.json().await.unwrap();
            racers.push(Racer {
                access_token: body["access_token"].as_str().unwrap().to_owned(),
                refresh_token,
            });
        }
    }
    racers
}

pub(crate) async fn assert_all_dead(app: &TestApp, racers: &[Racer]) {
    for racer in racers {
        let me = app.get_with_token("/api/me", &racer.access_token).await;
        assert_eq!(me.status(), 401, "an access token outlived the change");
        let refreshed = app.refresh(&racer.refresh_token).await;
        assert_eq!(
            refreshed.status(),
            401,
            "a refresh cookie outlived the change"
        );
    }
}

fn role_in(access_token: &str) -> String {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["role"].as_str().unwrap().to_owned()
}

async fn sign_ins_racing_a_password_reset_leave_nothing_alive(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("racer").await;
    let before = app.sign_in(&email).await;
    app.post_json("/api/auth/forgot-password", &json!({"email": email}))
        .await;
    let token = app.reset_token(&email, 2).await;
    let racers = sign_ins_racing(&app, &email, 8, async {
        let response = app
            .post_json(
                "/api/auth/reset-password",
                &json!({"token": token, "password": "Violet-Anchor-Meadow-57"}),
            )
            .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    assert_all_dead(
        &app,
        &[
            racers,
            vec![Racer {
                access_token: before.access_token,
                refresh_token: before.refresh_token,
            }],
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        0
    );
}

async fn sign_ins_racing_a_disable_leave_nothing_alive(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("boss").await;
    let user = app.signed_in("racer").await;
    let racers = sign_ins_racing(&app, &user.email, 8, async {
        let response = app
            .send_with_token(
                Method::PATCH,
                &format!("/api/users/{}", user.user_id),
                &admin.access_token,
                Some(&json!({"disabled": true})),
            )
            .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    let all = [
        racers,
        vec![Racer {
            access_token: user.access_token.clone(),
            refresh_token: user.refresh_token.clone(),
        }],
    ]
    .concat();
    assert_all_dead(&app, &all).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{}' AND revoked_at IS NULL",
            user.user_id
        ))
        .await,
        0
    );
}

async fn sign_ins_racing_a_demotion_carry_no_old_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = app.signed_in_admin("boss").await;
    let deputy = app.signed_in_admin("deputy").await;
    let racers = sign_ins_racing(&app, &deputy.email, 8, async {
        let response = app
            .send_with_token(
                Method::PATCH,
                &format!("/api/users/{}", deputy.user_id),
                &boss.access_token,
                Some(&json!({"role": "user"})),
            )
            .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    for racer in &racers {
        let me = app.get_with_token("/api/me", &racer.access_token).await;
        if me.status() == 200 {
            assert_eq!(
                role_in(&racer.access_token),
                "user",
                "an admin token lives on"
            );
            let people = app.get_with_token("/api/users", &racer.access_token).await;
            assert_eq!(people.status(), 403);
        } else {
            assert_eq!(me.status(), 401);
        }
        let refreshed = app.refresh(&racer.refresh_token).await;
        if refreshed.status() == 200 {
            let body: Value = refreshed.json().await.unwrap();
            assert_eq!(role_in(body["access_token"].as_str().unwrap()), "user");
        } else {
            assert_eq!(refreshed.status(), 401);
        }
    }
    // The session that was open before the demotion is over.
    assert_all_dead(
        &app,
        &[Racer {
            access_token: deputy.access_token,
            refresh_token: deputy.refresh_token,
        }],
    )
    .await;
}

async fn a_refresh_after_a_disable_is_refused_and_the_session_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("boss").await;
    let user = app.signed_in("quiet").await;
    let response = app
        .send_with_token(
            Method::PATCH,
            &format!("/api/users/{}", user.user_id),
            &admin.access_token,
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let refreshed = app.refresh(&user.refresh_token).await;
    assert_problem(refreshed, 401, "invalid_refresh_token").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{}' AND revoked_at IS NULL",
            user.user_id
        ))
        .await,
        0
    );
    // Enabled again, the old session stays over: it was opened under an
    // epoch that has passed.
    app.send_with_token(
        Method::PATCH,
        &format!("/api/users/{}", user.user_id),
        &admin.access_token,
        Some(&json!({"disabled": false})),
    )
    .await;
    assert_eq!(app.refresh(&user.refresh_token).await.status(), 401);
    assert_eq!(app.login(&user.email, STRONG_PASSWORD).await.status(), 200);
}

async fn changing_the_password_keeps_only_the_callers_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("changer").await;
    let here = app.sign_in(&email).await;
    let elsewhere = app.sign_in(&email).await;
    let response = app
        .send_with_token(
            Method::POST,
            "/api/me/password",
            &here.access_token,
            Some(&json!({
                "current_password": STRONG_PASSWORD,
                "new_password": "Violet-Anchor-Meadow-57",
            })),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_all_dead(
        &app,
        &[Racer {
            access_token: elsewhere.access_token,
            refresh_token: elsewhere.refresh_token,
        }],
    )
    .await;
    // The caller's session moved to the new epoch: it keeps refreshing.
    let refreshed = app.refresh(&here.refresh_token).await;
    assert_eq!(refreshed.status(), 200);
    let next = set_cookie(&refreshed).unwrap().value;
    assert_eq!(app.refresh(&next).await.status(), 200);
}

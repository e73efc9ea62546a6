use std::collections::HashMap;

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Settings::from_lookup(|name| vars.get(name).cloned())
}

const DEV: (&str, &str) = ("APP_ENV", "development");
const APP_URL: (&str, &str) = ("APP_URL", "https://accounts.example.com");
const SECRET: &str = "Xq3v9LmP2rT8wZ5yB1nK7cH4jD6fG0sA";

#[test]
fn defaults_to_production_which_needs_a_secret_and_mail() {
    let error = settings(&[]).unwrap_err();
    assert_eq!(error.variable, "JWT_SECRET");
    let error = settings(&[("JWT_SECRET", SECRET)]).unwrap_err();
    assert_eq!(error.variable, "SMTP_URL");
    let on_purpose = settings(&[
        ("JWT_SECRET", SECRET),
        ("MAIL_OUTBOX_DIR", "/var/mail/app"),
        APP_URL,
    ])
    .unwrap();
    assert_eq!(on_purpose.environment, Environment::Production);
    let smtp = settings(&[
        ("JWT_SECRET", SECRET),
        ("SMTP_URL", "smtp://mail.example.com?tls=required"),
        APP_URL,
    ])
    .unwrap();
    assert_eq!(smtp.environment, Environment::Production);
}

#[test]
fn development_runs_on_embedded_sqlite() {
    let settings = settings(&[DEV]).unwrap();
    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.database_url, "sqlite://data/app.db?mode=rwc");
    assert_eq!(settings.app_origin(), "http://127.0.0.1:3000");
    assert_eq!(settings.site_addr.port(), 3000);
}

#[test]
fn accepts_production_and_postgres() {
    let settings = settings(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", "Xq3v9LmP2rT8wZ5yB1nK7cH4jD6fG0sA"),
        ("APP_URL", "https://accounts.example.com/"),
        ("DATABASE_URL", "postgres://app@db/app"),
        ("SMTP_URL", "smtps://user:pass@mail.example.com"),
    ])
    .unwrap();
    assert_eq!(settings.environment, Environment::Production);
    assert_eq!(settings.app_origin(), "https://accounts.example.com");
    assert!(settings.database_url.starts_with("postgres://"));
}

#[test]
fn production_requires_a_jwt_secret() {
    let error = settings(&[("APP_ENV", "production")]).unwrap_err();
    assert_eq!(error.variable, "JWT_SECRET");
    let secret = SECRET;
    let settings = settings(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", secret),
        ("MAIL_OUTBOX_DIR", "outbox"),
        APP_URL,
    ])
    .unwrap();
    assert!(
        matches!(settings.jwt_secret, JwtSecretSource::Provided(ref key) if key == secret.as_bytes())
    );
    assert!(!format!("{settings:?}").contains(secret));
}

#[test]
fn token_lifetimes_and_origins_are_read() {
    let settings = settings(&[
        DEV,
        ("ACCESS_TOKEN_TTL_SECS", "5"),
        ("REFRESH_TOKEN_TTL_SECS", "3600"),
        ("REFRESH_REUSE_GRACE_SECS", "0"),
        (
            "ALLOWED_ORIGINS",
            "https://a.example.com/, http://localhost:8080",
        ),
    ])
    .unwrap();
    assert_eq!(settings.access_token_ttl, Duration::from_secs(5));
    assert_eq!(settings.refresh_token_ttl, Duration::from_secs(3600));
    assert_eq!(settings.refresh_reuse_grace, Duration::ZERO);
    assert_eq!(
        settings.allowed_origins,
        ["https://a.example.com", "http://localhost:8080"]
    );
}

#[test]
fn development_defaults_cover_tokens_and_mail() {
    let settings = settings(&[DEV]).unwrap();
    assert!(matches!(
        settings.jwt_secret,
        JwtSecretSource::GeneratedInDataDir
    ));
    assert_eq!(settings.access_token_ttl, Duration::from_secs(900));
    assert_eq!(settings.refresh_token_ttl, Duration::from_secs(2_592_000));
    assert_eq!(settings.refresh_reuse_grace, Duration::from_secs(10));
    assert_eq!(settings.mail.outbox_dir, PathBuf::from("data/outbox"));
    assert!(settings.mail.smtp_url.is_none());
    assert_eq!(settings.mail.hourly_limit, 3);
}

#[test]
fn the_hourly_mail_limit_is_read() {
    let settings = settings(&[DEV, ("MAIL_HOURLY_LIMIT", " 10 ")]).unwrap();
    assert_eq!(settings.mail.hourly_limit, 10);
}

#[test]
fn page_urls_stay_under_app_url() {
    let at_root = settings(&[DEV, ("APP_URL", "https://example.com")]).unwrap();
    assert_eq!(
        at_root.page_url("/login").as_str(),
        "https://example.com/login"
    );
    let under_path = settings(&[DEV, ("APP_URL", "https://example.com/accounts")]).unwrap();
    assert_eq!(
        under_path.page_url("/verify-email").as_str(),
        "https://example.com/accounts/verify-email"
    );
}

#[test]
fn blank_values_count_as_unset() {
    let settings = settings(&[
        ("APP_ENV", "  "),
        ("DATABASE_URL", ""),
        ("JWT_SECRET", SECRET),
        ("MAIL_OUTBOX_DIR", "outbox"),
        APP_URL,
    ])
    .unwrap();
    assert_eq!(settings.environment, Environment::Production);
    assert!(settings.database_url.starts_with("sqlite://"));
}

#[test]
fn bad_values_name_their_variable() {
    for (name, value) in [
        ("APP_ENV", "staging"),
        ("APP_URL", "not a url"),
        ("APP_URL", "ftp://example.com"),
        ("DATABASE_URL", "mysql://localhost/app"),
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("JWT_SECRET", "too-short"),
        ("JWT_SECRET", &"ab".repeat(32)),
        ("ACCESS_TOKEN_TTL_SECS", "0"),
        ("ACCESS_TOKEN_TTL_SECS", "fifteen"),
        ("REFRESH_TOKEN_TTL_SECS", "-5"),
        ("REFRESH_REUSE_GRACE_SECS", "100000"),
        ("ALLOWED_ORIGINS", "https://ok.example, nonsense"),
        ("SMTP_URL", "http://mail.example.com"),
        ("MAIL_FROM", "not an address"),
        ("MAIL_HOURLY_LIMIT", "0"),
        ("MAIL_HOURLY_LIMIT", "lots"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
        ("PASSWORD_HASH_QUEUE", "0"),
        ("HEADER_READ_TIMEOUT_SECS", "0"),
        ("REQUEST_TIMEOUT_SECS", "forever"),
        ("RATE_LIMIT_LOGIN_PER_IP", "many"),
        ("LOCKOUT_THRESHOLD", "-1"),
        ("METRICS_ADDR", "9100"),
        ("METRICS_ADDR", "localhost:9100"),
        ("METRICS_ADDR", "127.0.0.1:3000"),
        ("METRICS_ADDR", "0.0.0.0:3000"),
    ] {
        let error = settings(&[DEV, (name, value)]).unwrap_err();
        assert_eq!(error.variable, name, "{value}");
        assert!(error.to_string().contains(name));
    }
}

#[test]
fn trusted_proxies_are_networks() {
    let configured = settings(&[DEV, ("TRUSTED_PROXIES", "10.1.2.3/8, 127.0.0.1, ::1")]).unwrap();
    let shown: Vec<String> = configured
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
    assert!(settings(&[DEV]).unwrap().trusted_proxies.is_empty());
}

#[test]
fn metrics_are_off_unless_given_an_address_of_their_own() {
    assert_eq!(settings(&[DEV]).unwrap().metrics_addr, None);
    let on = settings(&[DEV, ("METRICS_ADDR", " 127.0.0.1:9100 ")]).unwrap();
    assert_eq!(on.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    // Port 0 picks a free port, like the site's own 0 (tests run both so).
    let picked = settings(&[
        DEV,
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("METRICS_ADDR", "127.0.0.1:0"),
    ])
    .unwrap();
    assert_eq!(picked.metrics_addr.unwrap().port(), 0);
    let error = settings(&[DEV, ("METRICS_ADDR", "127.0.0.1:3000")]).unwrap_err();
    assert!(error.reason.contains("public"), "{error}");
    let error = settings(&[DEV, ("METRICS_ADDR", "soon")]).unwrap_err();
    assert!(error.reason.contains("127.0.0.1:9100"), "{error}");
}

#[test]
fn production_refuses_settings_that_expose_secrets_or_addresses() {
    let production = |extra: &[(&'static str, &'static str)]| {
        let mut vars = vec![("JWT_SECRET", SECRET), ("MAIL_OUTBOX_DIR", "/var/mail/app")];
        vars.extend_from_slice(extra);
        settings(&vars)
    };
    let refused = |extra: &[(&'static str, &'static str)]| production(extra).unwrap_err().variable;

    assert_eq!(refused(&[]), "APP_URL", "required");
    assert_eq!(
        refused(&[("APP_URL", "http://accounts.example.com")]),
        "APP_URL"
    );
    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:3000",
        "http://[::1]:3000",
    ] {
        production(&[("APP_URL", local)]).unwrap();
    }
    production(&[APP_URL]).unwrap();

    for plain in [
        "smtp://user:pass@mail.example.com",
        "smtp://mail.example.com:587?tls=opportunistic",
    ] {
        assert_eq!(
            refused(&[APP_URL, ("SMTP_URL", plain)]),
            "SMTP_URL",
            "{plain}"
        );
    }
    for safe in [
        "smtps://user:pass@mail.example.com",
        "smtp://user:pass@mail.example.com:587?tls=required",
        "smtp://127.0.0.1:25",
        "smtp://localhost:1025",
        "smtp://[::1]:25",
    ] {
        production(&[APP_URL, ("SMTP_URL", safe)]).unwrap();
    }

    for everyone in [
        "0.0.0.0/0",
        "::/0",
        "10.0.0.0/7",
        "::ffff:0.0.0.0/96",
        "2000::/3",
    ] {
        assert_eq!(
            refused(&[APP_URL, ("TRUSTED_PROXIES", everyone)]),
            "TRUSTED_PROXIES",
            "{everyone}"
        );
    }
    production(&[
        APP_URL,
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/8, 173.245.48.0/20, 2400:cb00::/32, ::ffff:10.0.0.0/104",
        ),
    ])
    .unwrap();

    // Development takes them all, for trying things out.
    settings(&[
        DEV,
        ("APP_URL", "http://accounts.example.com"),
        ("SMTP_URL", "smtp://mail.example.com"),
        ("TRUSTED_PROXIES", "0.0.0.0/0"),
    ])
    .unwrap();
}

//! What `--db` names: a SQLite path or a PostgreSQL URL, told apart and printed without its credentials.

pub fn is_postgres_url(spec: &str) -> bool {
    let lower = spec.get(..13).unwrap_or(spec).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Whether `spec` is meant as PostgreSQL (it starts with `postgres`, any case), well formed or not.
pub fn looks_like_postgres(spec: &str) -> bool {
    spec.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("postgres"))
}

/// Whether a PostgreSQL spec carries a password (in the user part or as a `password=` parameter).
pub fn has_password(spec: &str) -> bool {
    looks_like_postgres(spec) && redact(spec) != spec
}

/// `spec` with its credentials replaced by `***`: safe to log and to print. Only PostgreSQL specs carry any.
pub fn redact(spec: &str) -> String {
    if !looks_like_postgres(spec) {
        return spec.to_owned();
    }
    let (scheme, rest) = spec.split_once("://").unwrap_or(("postgres", spec.get(9..).unwrap_or("")));
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = tail
        .split('&')
        .map(|part| match part.split_once("password=") {
            Some((before, _)) if before.is_empty() || before.ends_with('?') => format!("{before}password=***"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    if spec.contains("://") { format!("{scheme}://{authority}{tail}") } else { "postgres:***".to_owned() }
}

//! Token values (SPEC section 2): the payload of a row, legacy MD5 and signed HMAC-SHA256 tokens,
//! the constant-time check, the format pre-check, and new secrets.

use crate::error::{Denial, DenialReason, Error};
use std::fmt;

/// The signing key: the *text* of the `auth_token_secret` preference as stored (its bytes are the
/// HMAC key; 64 hex characters are not decoded). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from the preference's text.
    #[must_use]
    pub fn from_text(text: impl Into<Vec<u8>>) -> Self {
        Self(text.into())
    }

    /// The key bytes (for HMAC and for storing it in `tiki_preferences`).
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The six texts a token value covers, as the database renders them (NULL = empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayloadFields<'a> {
    /// tokenId, decimal.
    pub token_id: i64,
    /// creation, `YYYY-MM-DD HH:MM:SS` in the session time zone.
    pub creation: &'a str,
    /// timeout, decimal.
    pub timeout: i64,
    /// entry as stored.
    pub entry: &'a [u8],
    /// parameters JSON text as stored.
    pub parameters: &'a [u8],
    /// groups JSON text as stored.
    pub groups: &'a [u8],
}

/// Which kind of token value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// MD5 of the payload, 32 hex characters (every Tiki up to 28).
    Legacy,
    /// HMAC-SHA256 of the payload keyed by the secret, 64 hex characters (Tiki trunk).
    Signed,
}

impl Scheme {
    /// The length in hex characters of a token of this scheme (32 or 64).
    #[must_use]
    pub fn width(self) -> usize {
        match self {
            Scheme::Legacy => 32,
            Scheme::Signed => 64,
        }
    }

    /// The scheme of a stored or presented token by its length; `None` for any other length.
    #[must_use]
    pub fn from_len(len: usize) -> Option<Self> {
        match len {
            32 => Some(Scheme::Legacy),
            64 => Some(Scheme::Signed),
            _ => None,
        }
    }

    /// A stable lower-case name for the PHP API and logs (`"legacy"`, `"signed"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Legacy => "legacy",
            Scheme::Signed => "signed",
        }
    }
}

/// The payload of a row (SPEC section 2): the six texts concatenated with no separator. The
/// caller renders NULL columns as empty slices.
#[must_use]
pub fn payload(fields: &PayloadFields<'_>) -> Vec<u8> {
    let id = fields.token_id.to_string();
    let timeout = fields.timeout.to_string();
    let mut out = Vec::with_capacity(
        id.len()
            + fields.creation.len()
            + timeout.len()
            + fields.entry.len()
            + fields.parameters.len()
            + fields.groups.len(),
    );
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(fields.creation.as_bytes());
    out.extend_from_slice(timeout.as_bytes());
    out.extend_from_slice(fields.entry);
    out.extend_from_slice(fields.parameters);
    out.extend_from_slice(fields.groups);
    out
}

/// Legacy token: lowercase hex MD5 of the payload (32 characters). Unkeyed, hence guessable:
/// accepted, minted only on an unmigrated table or when told to.
#[must_use]
pub fn legacy_token(payload: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex(&Md5::digest(payload))
}

/// Signed token: lowercase hex HMAC-SHA256 of the payload keyed by the secret's *text*
/// (64 characters). `None` only if the HMAC cannot be keyed, which HMAC's definition rules out
/// (any key length is valid); callers treat `None` as "cannot sign" and fail closed.
#[must_use]
pub fn signed_token(payload: &[u8], secret: &Secret) -> Option<String> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose()).ok()?;
    mac.update(payload);
    Some(hex(&mac.finalize().into_bytes()))
}

/// The token value of `payload` under `scheme` (`None`: signed without a secret).
#[must_use]
pub fn compute(scheme: Scheme, payload: &[u8], secret: Option<&Secret>) -> Option<String> {
    match scheme {
        Scheme::Legacy => Some(legacy_token(payload)),
        Scheme::Signed => signed_token(payload, secret?),
    }
}

/// SPEC section 2: `presented` is valid for a row whose stored token is `stored_token` and whose
/// payload is `payload` iff it has the stored token's length and equals the value recomputed
/// from the row (32 → MD5, 64 → HMAC with `secret`; any other length, or 64 without a secret →
/// invalid). The comparison is constant-time.
///
/// Only lowercase hex can equal a recomputed value, so an uppercase token (which
/// [`precheck`] lets through, because the SPEC calls it hex) is refused here.
#[must_use]
pub fn verify(
    presented: &[u8],
    stored_token: &[u8],
    payload: &[u8],
    secret: Option<&Secret>,
) -> bool {
    use subtle::ConstantTimeEq;
    if presented.len() != stored_token.len() {
        return false;
    }
    let Some(scheme) = Scheme::from_len(presented.len()) else {
        return false;
    };
    match compute(scheme, payload, secret) {
        Some(expected) => bool::from(expected.as_bytes().ct_eq(presented)),
        None => false,
    }
}

/// SPEC section 3 step 2, the cheap reject before any query: a token is 32 or 64 hexadecimal
/// characters. Upper-case hex passes here and fails at [`verify`] (tokens are lower case), so
/// the reason logged for it is a bad signature or an unknown token, not "malformed".
///
/// # Errors
/// A [`Denial`] with reason `Malformed` saying what is wrong (never echoing the token).
pub fn precheck(presented: &[u8]) -> Result<(), Denial> {
    if Scheme::from_len(presented.len()).is_none() {
        return Err(Denial::new(
            DenialReason::Malformed,
            format!(
                "a token is 32 or 64 hex characters, this one has {} bytes",
                presented.len()
            ),
        ));
    }
    if let Some(pos) = presented.iter().position(|b| !b.is_ascii_hexdigit()) {
        return Err(Denial::new(
            DenialReason::Malformed,
            format!("the token has a non-hex byte at offset {pos}"),
        ));
    }
    Ok(())
}

/// A new signing secret: 32 bytes from the operating system's CSPRNG as 64 lowercase hex
/// characters (the form Tiki's migration stores).
///
/// # Errors
/// [`Error::Config`] when the operating system has no randomness to give.
pub fn new_secret() -> Result<Secret, Error> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::Config(format!("no randomness from the operating system: {e}")))?;
    Ok(Secret::from_text(hex(&bytes)))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-auth-token-secret";

    fn fixture(id: i64, creation: &str, timeout: i64, params: &str, groups: &str) -> Vec<u8> {
        payload(&PayloadFields {
            token_id: id,
            creation,
            timeout,
            entry: b"tiki-index.php",
            parameters: params.as_bytes(),
            groups: groups.as_bytes(),
        })
    }

    #[test]
    fn spec_md5_vectors() {
        let groups = r#"["Admins","Registered"]"#;
        let p3 = fixture(3, "2012-02-02 19:27:15", -1, "[]", groups);
        assert_eq!(legacy_token(&p3), "e2990f7983b7b6c46b3987536aa38d32");
        let p2 = fixture(2, "2012-02-01 19:27:15", 604_800, "[]", groups);
        assert_eq!(legacy_token(&p2), "91bba2f998b48fce0146016809886127");
        let p4 = fixture(
            4,
            "2012-02-03 15:25:07",
            5,
            r#"{"page":"HomePage"}"#,
            r#"["Registered"]"#,
        );
        assert_eq!(legacy_token(&p4), "0ae3b4b86286ab68f5a66fb8c49da163");
    }

    #[test]
    fn spec_hmac_vector() {
        let p4 = fixture(
            4,
            "2012-02-03 15:25:07",
            5,
            r#"{"page":"HomePage"}"#,
            r#"["Registered"]"#,
        );
        let secret = Secret::from_text(SECRET);
        assert_eq!(
            signed_token(&p4, &secret).as_deref(),
            Some("3e688670095cba622a5390a39c8c23b0ca641faf6bdff0cfccd7b3c35253fe85")
        );
    }

    #[test]
    fn payload_is_plain_concatenation() {
        let p = fixture(3, "2012-02-02 19:27:15", -1, "[]", "[]");
        assert_eq!(p, b"32012-02-02 19:27:15-1tiki-index.php[][]".to_vec());
    }

    #[test]
    fn verify_follows_the_stored_length() {
        let secret = Secret::from_text(SECRET);
        let p4 = fixture(
            4,
            "2012-02-03 15:25:07",
            5,
            r#"{"page":"HomePage"}"#,
            r#"["Registered"]"#,
        );
        let md5 = b"0ae3b4b86286ab68f5a66fb8c49da163";
        let hmac = b"3e688670095cba622a5390a39c8c23b0ca641faf6bdff0cfccd7b3c35253fe85";
        assert!(verify(md5, md5, &p4, Some(&secret)));
        assert!(verify(md5, md5, &p4, None));
        assert!(verify(hmac, hmac, &p4, Some(&secret)));
        // No secret, wrong secret, length differing from the stored one.
        assert!(!verify(hmac, hmac, &p4, None));
        assert!(!verify(hmac, hmac, &p4, Some(&Secret::from_text("other"))));
        assert!(!verify(md5, hmac, &p4, Some(&secret)));
        assert!(!verify(hmac, md5, &p4, Some(&secret)));
        // Upper case is hex, but not the recomputed value.
        let upper = md5.to_ascii_uppercase();
        assert!(!verify(&upper, md5, &p4, None));
        // Another length is never valid, even if it is the stored one.
        assert!(!verify(b"abc", b"abc", &p4, None));
        // A changed payload (e.g. groups edited in the table) no longer verifies.
        let tampered = fixture(
            4,
            "2012-02-03 15:25:07",
            5,
            r#"{"page":"HomePage"}"#,
            r#"["Admins"]"#,
        );
        assert!(!verify(md5, md5, &tampered, None));
        assert!(!verify(hmac, hmac, &tampered, Some(&secret)));
    }

    #[test]
    fn precheck_rejects_cheaply() {
        assert!(precheck(b"e2990f7983b7b6c46b3987536aa38d32").is_ok());
        assert!(precheck(b"E2990F7983B7B6C46B3987536AA38D32").is_ok());
        assert!(precheck(&[b'a'; 64]).is_ok());
        for bad in [
            &b""[..],
            b"e2990f7983b7b6c46b3987536aa38d3",
            b"e2990f7983b7b6c46b3987536aa38d32a",
            b"e2990f7983b7b6c46b3987536aa38d3g",
            b"e2990f7983b7b6c46b3987536aa38d3 ",
            b"e2990f7983b7b6c46b3987536aa38d3\xff",
            &[b'a'; 48],
        ] {
            let d = precheck(bad).expect_err("must be rejected");
            assert_eq!(d.reason, DenialReason::Malformed);
        }
    }

    #[test]
    fn new_secrets_are_64_lowercase_hex_and_differ() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert!(
            a.expose()
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        );
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
    }
}

//! Value checks for settings. Each returns a message a user can act on;
//! checks used on secrets never quote the value.

use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use regex::Regex;

fn matches(pattern: &str, value: &str) -> bool {
    Regex::new(pattern).expect("static pattern").is_match(value)
}

pub fn region(value: &str) -> Result<String, String> {
    if matches(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not an AWS region (e.g. us-east-1)"))
    }
}

pub fn ipv4_cidr(value: &str, prefixes: RangeInclusive<u8>) -> Result<String, String> {
    let bad = || {
        format!(
            "{value:?} is not an IPv4 CIDR with a prefix from /{} to /{} (e.g. 203.0.113.0/24)",
            prefixes.start(),
            prefixes.end()
        )
    };
    let (address, prefix) = value.split_once('/').ok_or_else(bad)?;
    address.parse::<Ipv4Addr>().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    if !prefixes.contains(&prefix) {
        return Err(bad());
    }
    Ok(value.to_owned())
}

/// The formations carve four /24 subnets out of `a.b.0.0/16` (moto cannot
/// evaluate `Fn::Cidr`, so they split the address instead).
pub fn vpc_cidr(value: &str) -> Result<String, String> {
    ipv4_cidr(value, 16..=16)
        .ok()
        .filter(|v| v.ends_with(".0.0/16"))
        .ok_or_else(|| format!("{value:?} is not a /16 of the form a.b.0.0/16 (e.g. 10.40.0.0/16)"))
}

pub fn ami_id(value: &str) -> Result<String, String> {
    if matches(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an AMI id (ami- and 8 or 17 hex digits)"
        ))
    }
}

pub fn instance_type(value: &str) -> Result<String, String> {
    if matches(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an EC2 instance type (e.g. t3.small)"
        ))
    }
}

pub fn db_instance_class(value: &str) -> Result<String, String> {
    if matches(r"^db\.[a-z0-9-]+\.[a-z0-9]+$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an RDS instance class (e.g. db.t4g.micro)"
        ))
    }
}

/// Database and user names: RDS and PostgreSQL take letters, digits and
/// underscores, starting with a letter, up to 63 characters.
pub fn db_identifier(value: &str) -> Result<String, String> {
    if value.contains('-') {
        return Err(format!(
            "{value:?} contains a dash; PostgreSQL and RDS names take letters, digits and \
             underscores (e.g. {:?})",
            value.replace('-', "_")
        ));
    }
    if matches(r"^[A-Za-z][A-Za-z0-9_]{0,62}$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} must start with a letter and hold only letters, digits and underscores, \
             at most 63 characters"
        ))
    }
}

/// RDS master password rules for PostgreSQL.
pub fn db_password(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if !(8..=128).contains(&len) {
        return Err(format!("must be 8 to 128 characters, it has {len}"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '/' | '"' | '@'))
    {
        let what = if c == ' ' {
            "a space".to_owned()
        } else if c.is_ascii_graphic() {
            format!("{c:?}")
        } else {
            "a non-printable or non-ASCII character".to_owned()
        };
        return Err(format!(
            "contains {what}; RDS passwords are printable ASCII without / \" @ or spaces"
        ));
    }
    Ok(())
}

pub fn exact_length(expected: usize) -> impl Fn(&str) -> Result<(), String> {
    move |value| {
        let len = value.len();
        if len == expected {
            Ok(())
        } else {
            Err(format!("must be exactly {expected} bytes, it has {len}"))
        }
    }
}

pub fn non_empty_secret(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be blank".into())
    } else {
        Ok(())
    }
}

pub fn number(range: RangeInclusive<u32>) -> impl Fn(&str) -> Result<u32, String> {
    move |value| {
        value
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                format!(
                    "{value:?} is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                )
            })
    }
}

pub fn postgres_version(value: &str) -> Result<String, String> {
    if matches(r"^[0-9]+(\.[0-9]+)?$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a PostgreSQL version (e.g. 16 or 16.4)"
        ))
    }
}

pub fn boolean(value: &str) -> Result<bool, String> {
    match value {
        "true" | "True" | "yes" => Ok(true),
        "false" | "False" | "no" => Ok(false),
        _ => Err(format!("{value:?} is not true or false")),
    }
}

pub fn absolute_path(value: &str) -> Result<String, String> {
    if value.starts_with('/') && !value.contains(char::is_whitespace) {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not an absolute path without spaces"))
    }
}

pub fn unix_user(value: &str) -> Result<String, String> {
    if matches(r"^[a-z_][a-z0-9_-]{0,31}$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not a Unix user name"))
    }
}

pub fn key_pair_name(value: &str) -> Result<String, String> {
    if value.len() <= 255 && value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an EC2 key pair name (printable ASCII, at most 255)"
        ))
    }
}

pub fn git_source(value: &str) -> Result<String, String> {
    if value.contains(char::is_whitespace) {
        Err(format!(
            "{value:?} is not a git URL or path (it has spaces)"
        ))
    } else {
        Ok(value.to_owned())
    }
}

pub fn port(value: &str) -> Result<u16, String> {
    value
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{value:?} is not a TCP port"))
}

pub fn email(value: &str) -> Result<String, String> {
    if value.is_empty() || matches(r"^[^@\s]+@[^@\s]+$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not an e-mail address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        ipv4_cidr("203.0.113.0/24", 0..=32).unwrap();
        assert!(ipv4_cidr("203.0.113.0", 0..=32).is_err());
        assert!(
            ipv4_cidr("10.0.0.0/8", 16..=20)
                .unwrap_err()
                .contains("/16 to /20")
        );
        assert!(ipv4_cidr("300.0.0.0/16", 0..=32).is_err());
    }

    #[test]
    fn db_names_explain_dashes() {
        db_identifier("argos_staging").unwrap();
        let err = db_identifier("argos-staging").unwrap_err();
        assert!(err.contains("\"argos_staging\""), "{err}");
        assert!(db_identifier("1argos").is_err());
    }

    #[test]
    fn password_messages_never_quote_the_password() {
        for bad in [
            "short",
            "has space here",
            "with/slash1",
            "at@sign1234",
            "quote\"1234",
        ] {
            let err = db_password(bad).unwrap_err();
            assert!(!err.contains(bad), "{err}");
        }
        db_password("Str0ngEnough!").unwrap();
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(number(1..=4)("3"), Ok(3));
        assert!(number(1..=4)("5").is_err());
        assert!(number(1..=4)("x").is_err());
        assert_eq!(boolean("true"), Ok(true));
        assert!(boolean("maybe").is_err());
    }
}

//! Value checks for settings. Each returns a message a user can act on;
//! checks used on secrets never quote the value.

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

/// The formations carve four /24 subnets out of `a.b.0.0/16` (moto cannot
/// evaluate `Fn::Cidr`, so they split the address instead).
pub fn ami_id(value: &str) -> Result<String, String> {
    if matches(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$", value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an AMI id (ami- and 8 or 17 hex digits)"
        ))
    }
}

/// Database and user names: RDS and PostgreSQL take letters, digits and
/// underscores, starting with a letter, up to 63 characters.
/// RDS master password rules for PostgreSQL.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_keys_say_what_they_want() {
        region("eu-west-1").unwrap();
        assert!(region("mars-1").unwrap_err().contains("not an AWS region"));
        ami_id("ami-0123456789abcdef0").unwrap();
        assert!(ami_id("ami-xyz").is_err());
        unix_user("admin").unwrap();
        assert!(unix_user("not a user").is_err());
        key_pair_name("argos").unwrap();
    }
}

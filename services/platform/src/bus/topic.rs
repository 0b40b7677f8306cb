//! AMQP topic matching, for the in-process broker: `*` is exactly one word, `#` zero or more.

pub fn validate_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() || pattern.len() > 255 {
        return Err(format!(
            "binding pattern {pattern:?} must be 1 to 255 characters"
        ));
    }
    if pattern.split('.').any(str::is_empty) {
        return Err(format!("binding pattern {pattern:?} has an empty word"));
    }
    Ok(())
}

pub fn matches(pattern: &str, routing_key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = routing_key.split('.').collect();
    matches_words(&pattern, &key)
}

fn matches_words(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| matches_words(rest, &key[skip..])),
        Some((&word, rest)) => match key.split_first() {
            Some((first, key_rest)) => {
                (word == "*" || word == *first) && matches_words(rest, key_rest)
            }
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn topic_semantics_follow_rabbitmq() {
        assert!(matches(
            "events.session.published",
            "events.session.published"
        ));
        assert!(matches("events.session.*", "events.session.cancelled"));
        assert!(!matches("events.session.*", "events.session"));
        assert!(!matches("events.*", "events.session.published"));
        assert!(matches("events.#", "events.session.published"));
        assert!(matches("events.#", "events"));
        assert!(matches("#", "anything.at.all"));
        assert!(matches("*.session.#", "events.session.attendance.recorded"));
        assert!(matches("#.recorded", "events.attendance.recorded"));
        assert!(!matches("facilitators.#", "events.session.published"));
    }
}

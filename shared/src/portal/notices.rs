//! What a page says after a form did its work.

/// The notices a redirect may ask for (`?done=`): fixed texts, never the request's.
#[must_use]
pub fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => "Endpoint created. Reveal its signing secret below to verify its deliveries.",
        "saved" => "Endpoint saved.",
        "deleted" => "Endpoint deleted.",
        "rotated" => "Secret rotated. The previous one keeps signing for 24 hours.",
        "test_sent" => "Test event sent.",
        "replayed" => "Replay started: the events since then are on their way.",
        "resent" => "Resent.",
        _ => return None,
    })
}

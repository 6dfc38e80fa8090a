//! Sign-up attempts: how many are allowed, and the verdict on one.
use chrono::Duration;

/// How many attempts are allowed.
#[derive(Debug, Clone, Copy)]
pub struct AttemptLimits {
    /// Attempts per IP (any address) within `ip_window`.
    pub per_ip: u32,
    pub ip_window: Duration,
    /// Mails per address within `address_window`, whoever asks.
    pub per_address: u32,
    pub address_window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Recorded; a mail may be sent.
    Allowed,
    /// Too many attempts from this IP: not recorded, nothing to do.
    IpLimited,
    /// Too many mails to this address: recorded (it counts for the IP), no mail.
    AddressLimited,
}

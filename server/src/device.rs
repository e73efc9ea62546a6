//! What the server knows of the device behind a request: sessions record
//! it, and so does the security event log.

/// The browser's user agent and the client's address, as the list of
/// sessions and the activity log show them.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

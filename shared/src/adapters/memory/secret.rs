//! A fixed secret.

/// A secret held in memory, for handler tests.
pub struct FixedSecret(pub String);

impl crate::ports::SecretSource for FixedSecret {
    async fn read(&self) -> Result<String, crate::ports::SecretError> {
        if self.0.trim().is_empty() {
            return Err(crate::ports::SecretError::Empty);
        }
        Ok(self.0.clone())
    }
}

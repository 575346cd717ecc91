//! The delivery queue in memory.

use std::sync::Mutex;

/// A delivery queue that keeps what it is sent, for handler tests.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<crate::model::delivery::DeliveryMessage>>,
    pub delays: Mutex<Vec<(String, std::time::Duration)>>,
    /// What `send_later` was given, with its delay.
    pub later: Mutex<Vec<(crate::model::delivery::DeliveryMessage, std::time::Duration)>>,
    pub dead_letters: Mutex<Vec<crate::model::delivery::DeliveryMessage>>,
}

impl crate::ports::delivery::DeliveryQueue for MemoryQueue {
    async fn send(
        &self,
        messages: &[crate::model::delivery::DeliveryMessage],
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(messages);
        Ok(())
    }

    async fn redrive(
        &self,
        _max: usize,
    ) -> Result<crate::ports::delivery::Redrive, crate::ports::delivery::QueueError> {
        Ok(crate::ports::delivery::Redrive {
            method: "copy",
            messages: 0,
        })
    }

    async fn delay(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.delays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((receipt_handle.to_owned(), delay));
        Ok(())
    }

    async fn send_later(
        &self,
        message: &crate::model::delivery::DeliveryMessage,
        delay: std::time::Duration,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.later
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.clone(), delay));
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &crate::model::delivery::DeliveryMessage,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}

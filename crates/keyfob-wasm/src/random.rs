//! The browser's CSPRNG (`crypto.getRandomValues`) as the core's `RandomSource`.

use keyfob_core::random::RandomSource;
use keyfob_core::CoreError;
use wasm_bindgen::JsCast;

pub struct BrowserRandom;

impl RandomSource for BrowserRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        let crypto: web_sys::Crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
            .ok()
            .and_then(|c| c.dyn_into().ok())
            .ok_or(CoreError::RandomUnavailable)?;
        // getRandomValues fills at most 65,536 bytes per call.
        for chunk in dest.chunks_mut(65_536) {
            crypto
                .get_random_values_with_u8_array(chunk)
                .map_err(|_| CoreError::RandomUnavailable)?;
        }
        Ok(())
    }
}

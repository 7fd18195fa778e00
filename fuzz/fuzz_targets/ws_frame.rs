//! Any bytes as a WebSocket text frame, to every role and as the hello: a message or an
//! error with a code and a message, never a panic.
#![no_main]

use kakehashi_protocol::{DeskCommand, Hello, InterpreterCommand, ResidentCommand, SupervisorCommand, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for refused in [
        parse::<DeskCommand>(&text).err(),
        parse::<InterpreterCommand>(&text).err(),
        parse::<ResidentCommand>(&text).err(),
        parse::<SupervisorCommand>(&text).err(),
        parse::<Hello>(&text).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!refused.message.is_empty());
    }
});

//! Reads JUnit files and says what the reader makes of them and how long it
//! took: `cargo run --release -p runner-api --example junit_read -- [--stream|--scan] FILE…`.
//! `--stream` reads without keeping the cases; `--scan` times a bare quick-xml
//! event scan instead, the yardstick for the reader's speed.

use std::path::Path;
use std::time::Instant;

use quick_xml::events::Event;

fn main() {
    let mut mode = "read";
    for arg in std::env::args().skip(1) {
        if arg == "--scan" || arg == "--stream" {
            mode = if arg == "--scan" { "scan" } else { "stream" };
            continue;
        }
        let path = Path::new(&arg);
        let start = Instant::now();
        let outcome = match mode {
            "scan" => scan(path),
            "stream" => std::fs::File::open(path)
                .map_err(|err| err.to_string())
                .and_then(|file| runner_api::junit::for_each_case(file, path, drop).map_err(|err| err.to_string()))
                .map(|summary| format!("{} cases streamed", summary.cases)),
            _ => runner_api::junit::read_file(path)
                .map(|cases| format!("{} cases", cases.len()))
                .map_err(|err| err.to_string()),
        };
        match outcome {
            Ok(what) => println!("{arg}: {what} in {:?}", start.elapsed()),
            Err(err) => println!("{err}"),
        }
    }
}

fn scan(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|err| err.to_string())?;
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::with_capacity(64 * 1024, file));
    let mut buf = Vec::new();
    let mut events = 0u64;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => return Ok(format!("{events} events scanned")),
            Ok(_) => events += 1,
            Err(err) => return Err(format!("{}: {err}", path.display())),
        }
        buf.clear();
    }
}

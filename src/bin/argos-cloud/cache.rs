//! `argos-cloud cache status|start|remove`: the machine's apt cache, which
//! every local environment on this machine shares.

use std::process::ExitCode;

use argos_cloud::backend::containers::apt_cache::{AptCache, SWITCH_VAR};
use argos_cloud::cli::CacheAction;

pub fn command(action: CacheAction) -> Result<ExitCode, String> {
    let cache = AptCache::machine();
    let fail = |e: argos_cloud::backend::containers::apt_cache::AptCacheError| e.to_string();
    match action {
        CacheAction::Status => match cache.describe().map_err(fail)? {
            Some(line) => println!("{line}"),
            None => println!(
                "no apt cache {} on this machine: the first local environment starts it \
                 ({SWITCH_VAR}=off switches it off)",
                cache.name()
            ),
        },
        CacheAction::Start => {
            let address = cache.ensure().map_err(fail)?;
            println!("apt cache {} answers on {address}", cache.name());
        }
        CacheAction::Remove { force } => match cache.remove(force).map_err(fail)? {
            Some(state) => println!(
                "removed the apt cache {name}: {} and {} (and its network {})",
                if state.container.is_some() {
                    format!("container {}", cache.name())
                } else {
                    "no container".to_owned()
                },
                if state.volume {
                    format!("volume {}", cache.name())
                } else {
                    "no volume".to_owned()
                },
                cache.home_network(),
                name = cache.name()
            ),
            None => println!(
                "no apt cache {} on this machine: nothing to remove",
                cache.name()
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}

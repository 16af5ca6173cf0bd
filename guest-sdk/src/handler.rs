//! One-function handlers: [`export_handler!`](crate::export_handler) turns
//! `fn handle(job: Job) -> Result<Value, JobError>` into a whole component.

/// The name a one-function handler announces: `QNTX_HANDLER_NAME` at build time (set by
/// `qntx handler create`), else the crate's name.
pub fn name(from_env: Option<&'static str>, crate_name: &'static str) -> &'static str {
    from_env
        .filter(|name| !name.is_empty())
        .unwrap_or(crate_name)
}

/// Export a single handler function as the component's `qntx:plugin` world.
///
/// The function takes the [`Job`](crate::Job) and returns its result or a
/// [`JobError`](crate::JobError). The component announces one handler; its name and description
/// come from `QNTX_HANDLER_NAME` and `QNTX_HANDLER_DESCRIPTION` at build time, which
/// `qntx handler create` sets (the crate's name and an empty description otherwise).
///
/// ```ignore
/// use qntx_guest::{Job, JobError, Value, json};
///
/// fn handle(job: Job) -> Result<Value, JobError> {
///     Ok(json!({ "echo": job.payload }))
/// }
///
/// qntx_guest::export_handler!(handle);
/// ```
#[macro_export]
macro_rules! export_handler {
    ($handle:path) => {
        const _: () = {
            struct QntxHandler;

            impl $crate::Plugin for QntxHandler {
                fn info() -> $crate::PluginInfo {
                    $crate::PluginInfo::new(
                        $crate::__private::handler_name(
                            ::std::option_env!("QNTX_HANDLER_NAME"),
                            ::std::env!("CARGO_PKG_NAME"),
                        ),
                        ::std::env!("CARGO_PKG_VERSION"),
                        ::std::option_env!("QNTX_HANDLER_DESCRIPTION").unwrap_or(""),
                    )
                }

                fn initialize(
                    _config: &$crate::Config,
                ) -> ::std::result::Result<$crate::Registration, ::std::string::String> {
                    let info = <Self as $crate::Plugin>::info();
                    ::std::result::Result::Ok(
                        $crate::Registration::new().handler(info.name, info.description),
                    )
                }

                fn execute(
                    job: $crate::Job,
                ) -> ::std::result::Result<$crate::Value, $crate::JobError> {
                    $handle(job)
                }
            }

            $crate::export_plugin!(QntxHandler);
        };
    };
}

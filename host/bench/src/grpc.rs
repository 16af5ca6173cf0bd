//! A no-op `ExecuteJob` server in a process of its own, and a client timing unary calls to it
//! over loopback: the original architecture's cost per job, without the work.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use qntx::bench::Summary;
use tonic::{Request, Response, Status};

mod proto {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("qntx.bench");
}

use proto::domain_plugin_service_client::DomainPluginServiceClient;
use proto::domain_plugin_service_server::{DomainPluginService, DomainPluginServiceServer};
use proto::{ExecuteJobRequest, ExecuteJobResponse};

/// The argument that makes the benchmark binary run as the plugin process.
pub const SERVE_ARG: &str = "--grpc-plugin-server";

/// The plugin side: answers every job with success and the payload echoed as result, as the
/// original's Go plugin server does for a handler that returns its input.
struct NoopPlugin;

#[tonic::async_trait]
impl DomainPluginService for NoopPlugin {
    async fn execute_job(
        &self,
        request: Request<ExecuteJobRequest>,
    ) -> Result<Response<ExecuteJobResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(ExecuteJobResponse {
            success: true,
            result: request.payload,
            plugin_version: "0.1.0".into(),
            ..ExecuteJobResponse::default()
        }))
    }
}

/// Run as the plugin process: listen on a loopback port, print it on stdout, serve until stdin
/// closes (the benchmark ended or died).
///
/// # Errors
///
/// When the port cannot be bound or the server fails.
pub fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
        drop(stdout);
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _read = std::io::stdin().read_to_end(&mut sink);
        });
        tonic::transport::Server::builder()
            .add_service(DomainPluginServiceServer::new(NoopPlugin))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                async {
                    let _closed = stdin_closed.await;
                },
            )
            .await?;
        Ok(())
    })
}

/// A plugin process started by this benchmark, and a connected client.
pub struct GrpcPlugin {
    child: Child,
    runtime: tokio::runtime::Runtime,
    client: DomainPluginServiceClient<tonic::transport::Channel>,
}

impl GrpcPlugin {
    /// Start this executable as the plugin process and connect to it.
    ///
    /// # Errors
    ///
    /// When the process does not start or does not answer.
    pub fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg(SERVE_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the gRPC plugin process")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("the child's stdout is piped")?)
            .read_line(&mut line)?;
        let port: u16 = line
            .trim()
            .parse()
            .with_context(|| format!("the plugin process printed '{}', not a port", line.trim()))?;
        // The client runs on one thread, as a worker of the original would call.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = runtime
            .block_on(DomainPluginServiceClient::connect(format!(
                "http://127.0.0.1:{port}"
            )))
            .context("connecting to the gRPC plugin process")?;
        Ok(Self {
            child,
            runtime,
            client,
        })
    }

    /// Time `calls` unary `ExecuteJob` calls of a no-op job, one after the other, after a
    /// warm-up; per call, microseconds.
    ///
    /// # Errors
    ///
    /// When a call fails.
    pub fn time(&mut self, calls: usize) -> anyhow::Result<Summary> {
        let client = &mut self.client;
        self.runtime.block_on(async {
            let request = || ExecuteJobRequest {
                job_id: "01JBENCH0000000000000000000".into(),
                handler_name: "noop".into(),
                payload: b"{}".to_vec(),
                timeout_secs: Some(300),
            };
            for _ in 0..calls.min(200) {
                client.execute_job(request()).await?;
            }
            let mut samples = Vec::with_capacity(calls);
            for _ in 0..calls {
                let started = Instant::now();
                let response = client.execute_job(request()).await?.into_inner();
                samples.push(started.elapsed().as_secs_f64() * 1e6);
                if !response.success {
                    bail!(
                        "the plugin process failed the no-op job: {}",
                        response.error
                    );
                }
            }
            Ok(Summary::of(samples))
        })
    }
}

impl Drop for GrpcPlugin {
    fn drop(&mut self) {
        // Closing its stdin stops the server; kill it if it lingers.
        drop(self.child.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(50));
            if self.child.try_wait().ok().flatten().is_none() {
                let _killed = self.child.kill();
            }
        }
        let _reaped = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noop_plugin_echoes_the_payload() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime
            .block_on(NoopPlugin.execute_job(Request::new(ExecuteJobRequest {
                payload: b"{\"a\":1}".to_vec(),
                ..ExecuteJobRequest::default()
            })))
            .unwrap()
            .into_inner();
        assert!(response.success);
        assert_eq!(response.result, b"{\"a\":1}");
    }
}

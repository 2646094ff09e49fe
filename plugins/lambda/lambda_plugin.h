// LambdaPlugin: the lambda plugin's work on batches. Each batch is cut into invocations of at most
// batch_records records and batch_bytes of event line (a record bigger than that goes alone); they wait in
// one queue, oldest first, and go to whichever process (lambda_instance.h) is free. The plugin holds at
// most `instances` batches (max_in_flight); the chain keeps the others, and since their memory counts
// against the flow's budget, reading pauses while the function is slow.
//
// An invocation that fails as a whole (the process exited, crashed or timed out, or its answer is not a
// response: lambda_response.h) goes back to the head of the queue, at most `retries` times; then each of its
// records fails with the last failure. A record fails with error code "processing-failed", Firehose's name
// for the output of failed transformations; on_error decides what becomes of it. The batch is done once
// every record of it has its verdict.
//
// Close() abandons what is under way (those records stay unacknowledged, in the source past its
// checkpoint) and stops every process. Loop thread only.
#pragma once

#include <uv.h>

#include <memory>

#include <spdlog/logger.h>

#include "agent/pipeline/plugin.h"
#include "plugins/lambda/lambda_settings.h"

namespace ferry::plugins {

// The error code of the records the lambda plugin fails.
inline constexpr std::string_view kProcessingFailed = "processing-failed";

std::unique_ptr<Plugin> MakeLambdaPlugin(uv_loop_t* loop, spdlog::logger& log, LambdaSettings settings);

}  // namespace ferry::plugins

// Real runtimes (issue 11 item 10): Python asyncio, Node.js and the JVM, each
// with its event loop or thread pool, loopback TCP, and (asyncio, Node.js) a
// child process behind pipes, compared with an uninterrupted run in all three
// variants.
#include <gtest/gtest.h>

#include "cr_engine.h"

namespace crtest {
namespace {

Subject asyncio_subject() { return {"py_asyncio.py", {"30", "100"}, 5, {}, false}; }
Subject node_subject() { return {"node_event_loop.js", {"{dir}", "30", "100"}, 5, {"node_rounds.txt"}, false}; }
Subject java_subject() { return {"java_threads.sh", {"30", "100"}, 5, {}, false}; }

TEST(SubjectDeterminism, PythonAsyncio) { expect_deterministic(asyncio_subject()); }
TEST(SubjectDeterminism, NodeEventLoop) { expect_deterministic(node_subject()); }
TEST(SubjectDeterminism, JavaThreads) { expect_deterministic(java_subject()); }

TEST(Runtimes, PythonAsyncioServerClientAndSubprocess) { all_variants_match_reference(asyncio_subject()); }
TEST(Runtimes, NodeJsNetChildProcessAndThreadPool) { all_variants_match_reference(node_subject()); }
TEST(Runtimes, JavaThreadPoolAndLoopbackSocket) { all_variants_match_reference(java_subject()); }

}  // namespace
}  // namespace crtest

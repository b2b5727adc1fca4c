// SPDX-License-Identifier: MIT
// The async connection's socket as Asio's reactor watches it: registered once for the
// connection's life, with readiness waits that can skip re-arming the registration.
//
// `posix::stream_descriptor::async_wait` never completes speculatively, so Asio's epoll reactor
// re-arms the descriptor with epoll_ctl(EPOLL_CTL_MOD) for every wait: one system call per
// statement more than a blocking client makes (sendto, poll, recvfrom). The registration is
// edge-triggered, so a wait that is queued without re-arming completes on the next data to
// arrive; that is enough when the caller knows that nothing it needs has arrived yet (a
// statement just sent with no other result outstanding: its answer arrives after the wait was
// queued, and each arrival is an edge). Such a wait (`rearm` false) is started as a speculative
// reactor operation whose attempt reports the socket ready, so that an edge the reactor saw
// with no wait queued (its try_speculative_ flag) is never lost, and whose completion reports
// the readiness exhausted, so that the next wait is queued without a system call. Every other
// wait (`rearm` true) re-arms, as async_wait does.
//
// With a Boost other than the one whose reactor interface this was written against (1.81's
// epoll_reactor::start_op), or another reactor, the waits are plain async_wait calls.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/version.hpp>

#ifndef PGORM_ASYNC_OWN_REACTOR_OPS  // (defined 0 on the command line: the plain waits)
#if BOOST_VERSION >= 108100 && BOOST_VERSION < 108200 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define PGORM_ASYNC_OWN_REACTOR_OPS 1
#else
#define PGORM_ASYNC_OWN_REACTOR_OPS 0
#endif
#endif

#if PGORM_ASYNC_OWN_REACTOR_OPS
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <unistd.h>
#endif

namespace pgorm::async::detail {

// `Owner` (held by std::shared_ptr while a wait is out) is called back with
// `on_ready(error_code, bool read)` on a thread running the executor's context; one read and
// one write wait at a time, as the caller keeps track.
template <class Owner>
class watched_socket {
 public:
  explicit watched_socket(const boost::asio::any_io_executor& ex)
#if PGORM_ASYNC_OWN_REACTOR_OPS
      : reactor_(boost::asio::use_service<boost::asio::detail::reactor>(
            boost::asio::query(ex, boost::asio::execution::context))),
        read_(true),
        write_(false) {
    reactor_.init_task();
  }
#else
      : socket_(ex) {
  }
#endif
  watched_socket(const watched_socket&) = delete;
  watched_socket& operator=(const watched_socket&) = delete;
  ~watched_socket() { close(); }

  // Takes `fd` (closed by close()); throws boost::system::system_error when the reactor
  // refuses it.
  void assign(int fd) {
#if PGORM_ASYNC_OWN_REACTOR_OPS
    close();
    if (const int err = reactor_.register_descriptor(fd, data_); err != 0) {
      reactor_.cleanup_descriptor_data(data_);
      ::close(fd);
      throw boost::system::system_error(
          boost::system::error_code(err, boost::asio::error::get_system_category()),
          "pgorm: cannot watch the connection's socket");
    }
    fd_ = fd;
#else
    socket_.assign(fd);
#endif
  }

  // Waits for the socket to be readable (`read`) or writable; `rearm`: see the file comment.
  void wait(std::shared_ptr<Owner> owner, bool read, bool rearm) {
#if PGORM_ASYNC_OWN_REACTOR_OPS
    namespace ad = boost::asio::detail;
    wait_op& op = read ? read_ : write_;
    op.ec_ = boost::system::error_code();
    op.owner = std::move(owner);
    if (fd_ < 0) {
      op.ec_ = boost::asio::error::bad_descriptor;
      reactor_.post_immediate_completion(&op, false);
      return;
    }
    reactor_.start_op(read ? ad::reactor::read_op : ad::reactor::write_op, fd_, data_, &op, false,
                      read && !rearm);
#else
    (void)rearm;
    socket_.async_wait(read ? boost::asio::posix::stream_descriptor::wait_read
                            : boost::asio::posix::stream_descriptor::wait_write,
                       [o = std::move(owner), read](const boost::system::error_code& ec) {
                         o->on_ready(ec, read);
                       });
#endif
  }

  // The waits out complete with operation_aborted.
  void cancel() noexcept {
#if PGORM_ASYNC_OWN_REACTOR_OPS
    if (fd_ >= 0) reactor_.cancel_ops(fd_, data_);
#else
    boost::system::error_code ignored;
    socket_.cancel(ignored);
#endif
  }

  // Cancels the waits and closes the descriptor.
  void close() noexcept {
#if PGORM_ASYNC_OWN_REACTOR_OPS
    if (fd_ < 0) return;
    // Not "closing": the descriptor is a duplicate, so closing it would leave the file in the
    // epoll set (as stream_descriptor::assign's possible_dup).
    reactor_.deregister_descriptor(fd_, data_, false);
    ::close(fd_);
    reactor_.cleanup_descriptor_data(data_);
    fd_ = -1;
#else
    boost::system::error_code ignored;
    socket_.close(ignored);
#endif
  }

 private:
#if PGORM_ASYNC_OWN_REACTOR_OPS
  // One wait, reused for every wait of its direction (no allocation per wait).
  struct wait_op : boost::asio::detail::reactor_op {
    explicit wait_op(bool r)
        : reactor_op(boost::system::error_code(), &wait_op::perform, &wait_op::complete), read(r) {}
    std::shared_ptr<Owner> owner;
    bool read;

    // Attempted speculatively (only a read that does not re-arm) when the reactor saw the
    // socket ready with no wait queued, or from the reactor on readiness: either way ready.
    // "Exhausted" clears the reactor's try_speculative_ flag, so that the next such wait is
    // queued for the next edge (and read waits are never attempted otherwise).
    static status perform(boost::asio::detail::reactor_op* /*base*/) { return done_and_exhausted; }

    static void complete(void* scheduler, boost::asio::detail::operation* base,
                         const boost::system::error_code& /*result*/, std::size_t /*bytes*/) {
      auto* op = static_cast<wait_op*>(base);
      // Taken out first: the owner may start the next wait on this object, or be destroyed.
      std::shared_ptr<Owner> owner = std::move(op->owner);
      const boost::system::error_code ec = op->ec_;
      const bool read = op->read;
      if (scheduler != nullptr) owner->on_ready(ec, read);  // else destroyed unrun (shutdown)
    }
  };

  boost::asio::detail::reactor& reactor_;
  boost::asio::detail::reactor::per_descriptor_data data_ = nullptr;
  int fd_ = -1;
  wait_op read_;
  wait_op write_;
#else
  boost::asio::posix::stream_descriptor socket_;
#endif
};

}  // namespace pgorm::async::detail

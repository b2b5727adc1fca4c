#include <iostream>

#include <pgorm/pgorm.hpp>
#include <pgorm/testing/server.hpp>

struct User {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> name{};
};

template <>
struct pgorm::table_traits<User> {
  static constexpr std::string_view name = "users";
  static constexpr auto primary_key = pgorm::identity(&User::id);
  static constexpr auto unique = pgorm::columns(&User::email);
};

int main() {
  pgorm::testing::server pg;  // a throwaway PostgreSQL; in an application, pass your own URL
  pgorm::connection db{pg.conninfo()};
  pgorm::schema::create<User>(db);

  User ada = db.insert(User{.email = "ada@example.com", .name = "Ada"}).returning_all().one();
  std::cout << "created user " << ada.id << '\n';
  try {
    db.insert(User{.email = "ada@example.com"}).exec();
  } catch (const pgorm::unique_violation& e) {
    std::cout << "already registered: " << e.constraint() << '\n';
  }

  for (const User& u :
       db.select<User>().where(pgorm::col<&User::email>.like("%@example.com")).all()) {
    std::cout << u.id << ' ' << u.email << ' ' << u.name.value_or("-") << '\n';
  }
}

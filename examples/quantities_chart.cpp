// 4. Quantities chart: a meter's quantities as a bar chart in the terminal,
// one bar per point, drawn with Unicode block characters (eighth blocks for
// sub-cell precision) and scaled to the terminal width, with dates, values
// and a total line. Optionally writes the points to a CSV file.
//
//   example_quantities_chart [--meter ID] [--days N] [--interval hour|day|week|month|year]
//                            [--csv FILE]
//
// Defaults: the demo meter (the first meter listed when talking to Polar),
// the last 7 days (today included, in UTC), one point per day. Hourly points
// cover at most 7 days. The width comes from the terminal, else $COLUMNS,
// else 80 columns. Runs against the bundled emulator unless
// POLAR_ACCESS_TOKEN is set (see example_support.hpp).
#include "example_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#if __has_include(<sys/ioctl.h>) && __has_include(<unistd.h>)
#include <sys/ioctl.h>
#include <unistd.h>
#define POLAR_EXAMPLE_HAVE_TIOCGWINSZ 1
#endif

namespace asio = boost::asio;
using namespace std::chrono;

namespace chart {

// -- pure rendering functions -------------------------------------------------

/// The terminal width to use: the terminal's own, else $COLUMNS, else 80.
int choose_columns(std::optional<int> terminal, const char* columns_env) {
    if (terminal && *terminal > 0) return *terminal;
    if (columns_env && *columns_env) {
        int n = 0;
        const std::string_view s(columns_env);
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && end == s.data() + s.size() && n > 0) return n;
    }
    return 80;
}

/// A bar of `value / max` of `width` cells, in eighths of a cell. Empty when
/// `value` or `max` is not positive; a positive value gets at least one eighth.
/// The result occupies exactly `width` columns (padded with spaces).
std::string bar(double value, double max, int width) {
    static constexpr std::string_view eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    static constexpr std::string_view full = "█";
    if (width <= 0) return {};
    long long units = 0;
    const long long capacity = 8LL * width;
    if (value > 0 && max > 0 && std::isfinite(value) && std::isfinite(max)) {
        units = std::llround(std::min(value / max, 1.0) * static_cast<double>(capacity));
        units = std::clamp(units, 1LL, capacity);
    }
    std::string out;
    for (long long i = 0; i < units / 8; ++i) out += full;
    out += eighths[units % 8];
    const long long used = units / 8 + (units % 8 ? 1 : 0);
    out.append(static_cast<std::size_t>(width - used), ' ');
    return out;
}

/// Groups the digits of a non-negative integer text by thousands: "1234567" -> "1,234,567".
std::string group_thousands(std::string_view digits) {
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

/// A quantity for people: integers with thousands separators, other values
/// with two decimals ("12,345", "1,234.57", "-3").
std::string format_quantity(double v) {
    if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    const bool negative = v < 0;
    const double a = std::fabs(v);
    char buf[64];
    std::string text;
    if (a < 1e15 && a == std::floor(a)) {
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(a));
        text = group_thousands(std::string_view(buf, static_cast<std::size_t>(end - buf)));
    } else if (a < 1e15) {
        const double rounded = std::round(a * 100) / 100;
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rounded, std::chars_format::fixed, 2);
        const std::string_view s(buf, static_cast<std::size_t>(end - buf));
        const auto dot = s.find('.');
        text = group_thousands(s.substr(0, dot)) + std::string(s.substr(dot));
    } else {
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific, 3);
        text.assign(buf, end);
    }
    return negative && text != "0" ? "-" + text : text;
}

/// The shortest text that reads back as the same double (for CSV).
std::string exact_number(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
}

std::string two_digits(unsigned v) {
    return {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
}

std::string iso_date(year_month_day d) {
    return std::to_string(static_cast<int>(d.year())) + "-" + two_digits(static_cast<unsigned>(d.month())) + "-" +
           two_digits(static_cast<unsigned>(d.day()));
}

/// The ISO 8601 week of a day, e.g. "2025-W09".
std::string iso_week(sys_days d) {
    const unsigned iso_weekday = weekday(d).iso_encoding(); // Monday = 1
    const sys_days thursday = d + std::chrono::days(4 - static_cast<int>(iso_weekday));
    const year y = year_month_day(thursday).year();
    const auto week = (thursday - sys_days(y / January / 1)).count() / 7 + 1;
    return std::to_string(static_cast<int>(y)) + "-W" + two_digits(static_cast<unsigned>(week));
}

/// The label of a point: the calendar unit its bucket covers. Hourly labels
/// repeat the date only when it differs from the previous point's.
std::string point_label(polar::timestamp t, polar::time_interval interval, std::optional<polar::timestamp> previous) {
    static constexpr std::string_view weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    const sys_days day = floor<std::chrono::days>(t);
    const year_month_day ymd(day);
    switch (interval) {
    case polar::time_interval::hour: {
        const auto h = static_cast<unsigned>(floor<hours>(t - day).count());
        const bool same_day = previous && floor<std::chrono::days>(*previous) == day;
        const std::string date = same_day ? std::string(10, ' ') : iso_date(ymd);
        return date + " " + two_digits(h) + ":00";
    }
    case polar::time_interval::week: return iso_week(day);
    case polar::time_interval::month:
        return std::to_string(static_cast<int>(ymd.year())) + "-" + two_digits(static_cast<unsigned>(ymd.month()));
    case polar::time_interval::year: return std::to_string(static_cast<int>(ymd.year()));
    default: return iso_date(ymd) + " " + std::string(weekdays[weekday(day).c_encoding()]);
    }
}

/// "day", "hour", ... with an "s" when `n` is not 1.
std::string units(std::size_t n, polar::time_interval interval) {
    const std::string_view name = interval == polar::time_interval::unknown ? "point" : polar::to_string(interval);
    return std::to_string(n) + " " + std::string(name) + (n == 1 ? "" : "s");
}

/**
 * The `start_timestamp` and `end_timestamp` for the last `days` days up to
 * `now`. The server places points at start, start + interval, ... up to end,
 * each covering the calendar unit that contains it, so the start is aligned
 * to its unit (the hour, day, Monday, first of the month or of the year) and
 * the last point falls in the current unit.
 */
std::pair<polar::timestamp, polar::timestamp> time_range(polar::timestamp now, polar::time_interval interval,
                                                         int days) {
    const sys_days today = floor<std::chrono::days>(now);
    const sys_days first = today - std::chrono::days(days - 1);
    const year_month_day ymd(first);
    switch (interval) {
    case polar::time_interval::hour: {
        const auto end = floor<hours>(now);
        return {end - hours(24 * days - 1), end};
    }
    case polar::time_interval::week:
        return {first - std::chrono::days(weekday(first).iso_encoding() - 1), today};
    case polar::time_interval::month: return {sys_days(ymd.year() / ymd.month() / 1), today};
    case polar::time_interval::year: return {sys_days(ymd.year() / January / 1), today};
    default: return {first, today};
    }
}

/// What the chart shows.
struct series {
    std::string title;
    polar::time_interval interval = polar::time_interval::day;
    /// The meter's aggregation: the total line is a plain sum for `sum` and
    /// `count`, and says so for the others.
    polar::aggregation_function func = polar::aggregation_function::sum;
    std::vector<polar::meter_quantity> points;
};

/// Lays the chart out in `columns` terminal columns; one string per line.
std::vector<std::string> render(const series& s, int columns) {
    std::vector<std::string> lines;
    lines.push_back(s.title);
    lines.emplace_back();
    if (s.points.empty()) {
        lines.push_back("No data points.");
        lines.push_back("total 0");
        return lines;
    }

    std::vector<std::string> labels, values;
    double max = 0, total = 0;
    std::size_t peak = 0, empty = 0;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        const auto previous = i ? std::optional(s.points[i - 1].timestamp) : std::nullopt;
        labels.push_back(point_label(s.points[i].timestamp, s.interval, previous));
        values.push_back(format_quantity(s.points[i].quantity));
        const double q = s.points[i].quantity;
        total += q;
        if (q == 0) ++empty;
        if (q > max) {
            max = q;
            peak = i;
        }
    }
    // Every label and value is ASCII: its length in bytes is its width in columns.
    std::size_t label_width = 0, value_width = 0;
    for (const auto& l : labels) label_width = std::max(label_width, l.size());
    for (const auto& v : values) value_width = std::max(value_width, v.size());
    const std::string max_text = format_quantity(max);
    value_width = std::max(value_width, max_text.size());

    // label " │" bar " " value, kept one column short of the edge.
    const int fixed = static_cast<int>(label_width + value_width) + 4;
    const int width = std::max(8, columns - fixed);
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        std::string line = labels[i];
        line.append(label_width - labels[i].size(), ' ');
        line += " │";
        line += bar(s.points[i].quantity, max, width);
        line += ' ';
        line.append(value_width - values[i].size(), ' ');
        line += values[i];
        lines.push_back(std::move(line));
    }

    // The axis: 0 at the left end of the bars, the largest value at the right end.
    std::string axis(label_width, ' ');
    axis += " └";
    for (int i = 0; i < width; ++i) axis += "─";
    lines.push_back(std::move(axis));
    std::string ticks(label_width + 2, ' ');
    ticks += '0';
    const std::size_t room = static_cast<std::size_t>(width) - 1;
    if (max > 0 && max_text.size() <= room) {
        ticks.append(room - max_text.size(), ' ');
        ticks += max_text;
    }
    lines.push_back(std::move(ticks));

    const bool additive =
        s.func == polar::aggregation_function::sum || s.func == polar::aggregation_function::count;
    std::string summary = additive ? "total " : "total of the points ";
    summary += format_quantity(total);
    summary += " over " + units(s.points.size(), s.interval);
    if (max > 0) summary += ", peak " + max_text + " at " + point_label(s.points[peak].timestamp, s.interval, {});
    if (empty) summary += ", " + units(empty, s.interval) + " at zero";
    lines.push_back(std::move(summary));
    return lines;
}

/// The points as CSV: a header line, then one `timestamp,quantity` line each.
std::string to_csv(const std::vector<polar::meter_quantity>& points) {
    std::string out = "timestamp,quantity\n";
    for (const auto& p : points) out += polar::format_timestamp(p.timestamp) + "," + exact_number(p.quantity) + "\n";
    return out;
}

} // namespace chart

// -- command line ----------------------------------------------------------------

struct options {
    std::string meter_id;
    int days = 7;
    polar::time_interval interval = polar::time_interval::day;
    std::string csv_file;
};

constexpr std::string_view usage =
    "usage: example_quantities_chart [--meter ID] [--days N] [--interval hour|day|week|month|year] [--csv FILE]\n";

/// Parses the arguments; an error message when they are not usable.
std::optional<std::string> parse_args(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return "missing value after " + std::string(arg);
        const std::string_view value = argv[++i];
        if (arg == "--meter") {
            o.meter_id = value;
        } else if (arg == "--csv") {
            o.csv_file = value;
        } else if (arg == "--days") {
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), o.days);
            if (ec != std::errc() || end != value.data() + value.size() || o.days < 1 || o.days > 366)
                return "--days takes a number from 1 to 366";
        } else if (arg == "--interval") {
            o.interval = polar::open_enum<polar::time_interval>::from_wire(value).value();
            if (o.interval == polar::time_interval::unknown) return "--interval takes hour, day, week, month or year";
        } else {
            return "unknown option " + std::string(arg);
        }
    }
    if (o.interval == polar::time_interval::hour && o.days > 7) return "hourly points cover at most 7 days";
    return std::nullopt;
}

int terminal_columns() {
    std::optional<int> terminal;
#ifdef POLAR_EXAMPLE_HAVE_TIOCGWINSZ
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) terminal = ws.ws_col;
#endif
    return chart::choose_columns(terminal, std::getenv("COLUMNS"));
}

// -- the program -------------------------------------------------------------------

asio::awaitable<void> run(polar::client client, options opts, int& status) {
    // 1. The meter: the one asked for, else the default one.
    if (opts.meter_id.empty()) {
        polar::page<polar::meter> first = co_await client.meters().list({.limit = 1});
        if (first.items.empty()) {
            std::cout << "No meters yet: create one first (see examples/quickstart.cpp).\n";
            co_return;
        }
        opts.meter_id = first.items.front().id;
    }
    const polar::meter meter = co_await client.meters().get(opts.meter_id);

    // 2. Its quantities over the last `days` days, today included.
    const auto [start, end] = chart::time_range(floor<microseconds>(system_clock::now()), opts.interval, opts.days);
    const polar::meter_quantities_params params{.start_timestamp = start, .end_timestamp = end, .interval = opts.interval};
    const polar::meter_quantities q = co_await client.meters().quantities(meter.id, params);

    // 3. The chart.
    chart::series s;
    s.title = meter.name + " (" + std::string(meter.aggregation.func_name()) +
              (meter.aggregation.property().empty() ? "" : " of " + meter.aggregation.property()) + "), " +
              polar::format_timestamp(params.start_timestamp).substr(0, 10) + " to " +
              polar::format_timestamp(params.end_timestamp).substr(0, 10) + " UTC, per " +
              std::string(polar::to_string(opts.interval));
    s.interval = opts.interval;
    s.func = meter.aggregation.func();
    s.points = q.quantities;
    for (const std::string& line : chart::render(s, terminal_columns())) std::cout << line << "\n";

    // 4. The CSV file.
    if (!opts.csv_file.empty()) {
        std::ofstream out(opts.csv_file, std::ios::binary | std::ios::trunc);
        out << chart::to_csv(q.quantities);
        out.close();
        if (!out) {
            std::cerr << "error: cannot write " << opts.csv_file << "\n";
            status = 1;
            co_return;
        }
        std::cout << "\nWrote " << q.quantities.size() << " points to " << opts.csv_file << "\n";
    }
}

int main(int argc, char** argv) {
    options opts;
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        std::cout << usage;
        return 0;
    }
    if (auto error = parse_args(argc, argv, opts)) {
        std::cerr << "error: " << *error << "\n" << usage;
        return 2;
    }
    asio::io_context ioc;
    auto target = example::connect(ioc.get_executor());
    if (opts.meter_id.empty() && target->demo && !target->demo->meter_ids.empty())
        opts.meter_id = target->demo->meter_ids.front();
    polar::client client(ioc.get_executor(), target->options);
    int status = 0;
    asio::co_spawn(ioc, run(client, opts, status), example::finish(*target, status));
    ioc.run();
    return status;
}

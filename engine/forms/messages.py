"""Bilingual messages of the form checks: fixed texts, and builders of texts with a number."""
from __future__ import annotations

from engine.domain.messages import Message
from engine.forms.common import MAX_PATTERN_INPUT


def msg(vi: str, en: str) -> Message:
    return Message(vi=vi, en=en)


REQUIRED = msg("Trường này là bắt buộc.", "This field is required.")
NOT_NUMBER = msg("Giá trị phải là số.", "The value must be a number.")
NOT_TEXT = msg("Giá trị phải là chuỗi ký tự.", "The value must be text.")
BAD_FORMAT = msg("Không đúng định dạng.", "Invalid format.")
BAD_CHARS = msg("Có ký tự không hợp lệ.", "The value contains invalid characters.")
LINE_BREAK = msg("Không được xuống dòng.", "Line breaks are not allowed.")
NOT_ALLOWED = msg("Giá trị không nằm trong danh sách cho phép.",
                  "The value is not one of the allowed options.")
DUPLICATE_CHOICE = msg("Có giá trị được chọn trùng lặp.", "A value is selected more than once.")
NOT_BOOLEAN = msg("Giá trị phải là đúng hoặc sai.", "The value must be true or false.")
NOT_LIST = msg("Giá trị phải là một danh sách.", "The value must be a list.")
BAD_EMAIL = msg("Địa chỉ thư điện tử không hợp lệ.", "Invalid e-mail address.")
BAD_PHONE = msg("Số điện thoại không hợp lệ (dạng quốc tế, ví dụ +84912345678).",
                "Invalid phone number (international form, e.g. +84912345678).")
BAD_DATE = msg("Ngày không hợp lệ (định dạng YYYY-MM-DD).", "Invalid date (format YYYY-MM-DD).")
BAD_TIME = msg("Giờ không hợp lệ (định dạng HH:MM).", "Invalid time (format HH:MM).")
BAD_DATETIME = msg("Ngày giờ không hợp lệ.", "Invalid date and time.")
PAST_DATE = msg("Không được chọn ngày đã qua.", "Past dates are not allowed.")
ROWS_NOT_LIST = msg("Dữ liệu của danh sách phải là một mảng.", "The list data must be an array.")
ROW_NOT_OBJECT = msg("Mỗi dòng phải là một đối tượng.", "Each row must be an object.")
DATA_NOT_OBJECT = msg("Dữ liệu gửi lên phải là một đối tượng JSON.",
                      "The submitted data must be a JSON object.")
DATA_NOT_JSON = msg("Dữ liệu gửi lên không phải JSON hợp lệ.",
                    "The submitted data is not valid JSON.")
DATA_TOO_LARGE = msg("Dữ liệu gửi lên quá lớn (tối đa 1 MB).",
                     "The submitted data is too large (1 MB at most).")
TOO_LONG_TO_CHECK = msg(f"Giá trị quá dài để kiểm tra định dạng (tối đa {MAX_PATTERN_INPUT} ký tự).",
                        f"The value is too long to check (at most {MAX_PATTERN_INPUT} characters).")


def max_length(n: int) -> Message:
    return msg(f"Tối đa {n} ký tự.", f"At most {n} characters.")


def min_length(n: int) -> Message:
    return msg(f"Tối thiểu {n} ký tự.", f"At least {n} characters.")


def min_value(n: object) -> Message:
    return msg(f"Giá trị nhỏ nhất là {n}.", f"The minimum value is {n}.")


def max_value(n: object) -> Message:
    return msg(f"Giá trị lớn nhất là {n}.", f"The maximum value is {n}.")


def decimal_digits(n: int) -> Message:
    if n == 0:
        return msg("Giá trị phải là số nguyên.", "The value must be a whole number.")
    return msg(f"Tối đa {n} chữ số thập phân.", f"At most {n} decimal digits.")


def multiple_of(n: object) -> Message:
    return msg(f"Giá trị phải là bội số của {n}.", f"The value must be a multiple of {n}.")


def minute_step(n: int) -> Message:
    return msg(f"Số phút phải là bội số của {n}.", f"Minutes must be a multiple of {n}.")


def too_many_rows(n: int) -> Message:
    return msg(f"Tối đa {n} dòng.", f"At most {n} rows.")


def fixed_rows(n: int) -> Message:
    return msg(f"Không được thêm hoặc bớt dòng (cần đúng {n} dòng).",
               f"Rows cannot be added or removed ({n} rows expected).")

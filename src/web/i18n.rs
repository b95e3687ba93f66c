//! English and Russian. Every text of the app is a field of [`Texts`], so a language that lacks
//! one does not compile. The language comes from the `nosebook_lang` cookie (the switch in the
//! footer sets it), else from the browser's `Accept-Language`, else English.

use actix_web::HttpRequest;

pub const LANG_COOKIE: &str = "nosebook_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The cookie's choice, else the first language of `Accept-Language` we speak.
    pub fn of(req: &HttpRequest) -> Lang {
        if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| Lang::from_code(c.value())) {
            return lang;
        }
        let accepted = req.headers().get("Accept-Language").and_then(|v| v.to_str().ok()).unwrap_or_default();
        accepted
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::from_code(tag.trim().split('-').next().unwrap_or_default()))
            .next()
            .unwrap_or(Lang::En)
    }

    pub fn t(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
        }
    }
}

pub struct Texts {
    pub language_name: &'static str,
    pub my_page: &'static str,
    pub messenger: &'static str,
    pub friends: &'static str,
    pub search_placeholder: &'static str,
    pub search_nobody: &'static str,
    pub log_out: &'static str,
    pub settings: &'static str,
    pub change_password: &'static str,
    pub old_password: &'static str,
    pub new_password: &'static str,
    pub save_password: &'static str,
    pub password_changed: &'static str,
    pub sessions_ended: &'static str,
    pub wrong_old_password: &'static str,
    pub password_rules: &'static str,
    pub your_sessions: &'static str,
    pub this_device: &'static str,
    pub unknown_device: &'static str,
    pub signed_in_at: &'static str,
    pub last_used: &'static str,
    pub end_session: &'static str,
    pub log_in: &'static str,
    pub sign_up: &'static str,
    pub have_account: &'static str,
    pub no_account: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub nick: &'static str,
    pub password: &'static str,
    pub required: &'static str,
    pub bad_name: &'static str,
    pub bad_nick: &'static str,
    pub bad_password: &'static str,
    pub nick_taken: &'static str,
    pub unknown_nick: &'static str,
    pub wrong_password: &'static str,
    pub too_many_logins: &'static str,
    pub too_many_signups: &'static str,
    pub too_many_requests: &'static str,
    pub online: &'static str,
    pub last_seen: &'static str,
    pub wall: &'static str,
    pub wall_empty: &'static str,
    pub write_something: &'static str,
    pub publish: &'static str,
    pub post_empty: &'static str,
    pub likes: &'static str,
    pub comments: &'static str,
    pub show_more: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub bad_request: &'static str,
    pub something_wrong: &'static str,
    /// A refusal: the viewer may not do this.
    pub not_allowed: &'static str,
    /// A refusal: it clashes with what is already there.
    pub already_done: &'static str,
    pub tagline: &'static str,
    pub new_event: &'static str,
    pub write_comment: &'static str,
    pub send: &'static str,
    pub remove: &'static str,
    pub add_friend: &'static str,
    pub request_sent: &'static str,
    pub cancel_request: &'static str,
    pub wants_to_be_friends: &'static str,
    pub accept: &'static str,
    pub deny: &'static str,
    pub your_friend: &'static str,
    pub remove_friend: &'static str,
    pub online_friends: &'static str,
    pub incoming_requests: &'static str,
    pub outgoing_requests: &'static str,
    pub nobody_here: &'static str,
    pub no_chats: &'static str,
    pub earlier_messages: &'static str,
    pub write_message: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub edited: &'static str,
    pub seen_by: &'static str,
    pub is_typing: &'static str,
    pub new_group: &'static str,
    pub group_title: &'static str,
    pub no_friends_to_add: &'static str,
    pub create: &'static str,
    pub group_settings: &'static str,
    pub rename: &'static str,
    pub add_member: &'static str,
    pub leave_group: &'static str,
    pub message_button: &'static str,
    pub choose_photo: &'static str,
    pub upload: &'static str,
    pub unread: &'static str,
    pub reconnecting: &'static str,
}

static EN: Texts = Texts {
    language_name: "English",
    my_page: "My page",
    messenger: "Messenger",
    friends: "Friends",
    search_placeholder: "Search people",
    search_nobody: "Nobody found",
    log_out: "Log out",
    settings: "Settings",
    change_password: "Change password",
    old_password: "Current password",
    new_password: "New password (8 characters or more)",
    save_password: "Change password",
    password_changed: "Password changed.",
    sessions_ended: "Other sessions ended",
    wrong_old_password: "The current password is wrong.",
    password_rules: "Fill in both fields; the new password needs 8 to 256 bytes.",
    your_sessions: "Where you are signed in",
    this_device: "this device",
    unknown_device: "Unknown device",
    signed_in_at: "signed in",
    last_used: "last used",
    end_session: "Sign out there",
    log_in: "Log in",
    sign_up: "Sign up",
    have_account: "Already have an account?",
    no_account: "New to Nosebook?",
    first_name: "First name",
    last_name: "Last name",
    nick: "Nick",
    password: "Password",
    required: "Required",
    bad_name: "Up to 64 characters, no control characters",
    bad_nick: "3 to 32 characters",
    bad_password: "At least 8 characters",
    nick_taken: "This nick is taken",
    unknown_nick: "Nobody has this nick",
    wrong_password: "Wrong password",
    too_many_logins: "Too many wrong passwords for this account. Wait a little and try again.",
    too_many_signups: "Too many sign-ups from your network. Try again later.",
    too_many_requests: "Slow down",
    online: "online",
    last_seen: "last seen",
    wall: "Wall",
    wall_empty: "No posts yet",
    write_something: "What's new?",
    publish: "Publish",
    post_empty: "Write something first",
    likes: "Likes",
    comments: "Comments",
    show_more: "Show more",
    not_found: "Not found",
    not_found_text: "There is no such page.",
    bad_request: "That did not work",
    something_wrong: "Something went wrong. Try again in a moment.",
    not_allowed: "You cannot do that.",
    already_done: "That has already been done.",
    tagline: "Friends, walls and chats — live.",
    new_event: "New",
    write_comment: "Write a comment…",
    send: "Send",
    remove: "Remove",
    add_friend: "Add friend",
    request_sent: "Request sent",
    cancel_request: "Cancel request",
    wants_to_be_friends: "Wants to be your friend",
    accept: "Accept",
    deny: "Deny",
    your_friend: "Your friend",
    remove_friend: "Remove from friends",
    online_friends: "Online",
    incoming_requests: "Requests",
    outgoing_requests: "Sent requests",
    nobody_here: "Nobody here yet",
    no_chats: "No chats yet",
    earlier_messages: "Earlier messages",
    write_message: "Write a message…",
    edit: "Edit",
    save: "Save",
    edited: "edited",
    seen_by: "Seen by",
    is_typing: "is typing…",
    new_group: "New group chat",
    group_title: "Group name",
    no_friends_to_add: "Add friends first to invite them",
    create: "Create",
    group_settings: "Group settings",
    rename: "Rename",
    add_member: "Add member",
    leave_group: "Leave the group",
    message_button: "Message",
    choose_photo: "Choose a photo",
    upload: "Upload",
    unread: "Unread",
    reconnecting: "Reconnecting…",
};

static RU: Texts = Texts {
    language_name: "Русский",
    my_page: "Моя страница",
    messenger: "Мессенджер",
    friends: "Друзья",
    search_placeholder: "Поиск людей",
    search_nobody: "Никого не нашлось",
    log_out: "Выйти",
    settings: "Настройки",
    change_password: "Смена пароля",
    old_password: "Текущий пароль",
    new_password: "Новый пароль (не короче 8 символов)",
    save_password: "Сменить пароль",
    password_changed: "Пароль изменён.",
    sessions_ended: "Завершено других сеансов",
    wrong_old_password: "Текущий пароль указан неверно.",
    password_rules: "Заполните оба поля; новый пароль — от 8 до 256 байт.",
    your_sessions: "Где выполнен вход",
    this_device: "это устройство",
    unknown_device: "Неизвестное устройство",
    signed_in_at: "вход",
    last_used: "последняя активность",
    end_session: "Выйти там",
    log_in: "Войти",
    sign_up: "Зарегистрироваться",
    have_account: "Уже есть аккаунт?",
    no_account: "Впервые в Nosebook?",
    first_name: "Имя",
    last_name: "Фамилия",
    nick: "Ник",
    password: "Пароль",
    required: "Обязательное поле",
    bad_name: "До 64 символов, без управляющих символов",
    bad_nick: "От 3 до 32 символов",
    bad_password: "Не меньше 8 символов",
    nick_taken: "Этот ник уже занят",
    unknown_nick: "Пользователь с таким ником отсутствует",
    wrong_password: "Неверный пароль",
    too_many_logins: "Слишком много неверных паролей для этой учётной записи. Подождите немного и попробуйте снова.",
    too_many_signups: "Слишком много регистраций из вашей сети. Попробуйте позже.",
    too_many_requests: "Не так быстро",
    online: "в сети",
    last_seen: "был(а) в сети",
    wall: "Стена",
    wall_empty: "Записей пока нет",
    write_something: "Что у вас нового?",
    publish: "Опубликовать",
    post_empty: "Сначала напишите что-нибудь",
    likes: "Нравится",
    comments: "Комментарии",
    show_more: "Показать ещё",
    not_found: "Не найдено",
    not_found_text: "Такой страницы нет.",
    bad_request: "Не получилось",
    something_wrong: "Что-то пошло не так. Попробуйте чуть позже.",
    not_allowed: "Вы не можете этого сделать.",
    already_done: "Это уже сделано.",
    tagline: "Друзья, стены и чаты — вживую.",
    new_event: "Новое",
    write_comment: "Написать комментарий…",
    send: "Отправить",
    remove: "Удалить",
    add_friend: "Добавить в друзья",
    request_sent: "Заявка отправлена",
    cancel_request: "Отменить заявку",
    wants_to_be_friends: "Хочет добавить вас в друзья",
    accept: "Принять",
    deny: "Отклонить",
    your_friend: "У вас в друзьях",
    remove_friend: "Удалить из друзей",
    online_friends: "Онлайн",
    incoming_requests: "Заявки",
    outgoing_requests: "Исходящие заявки",
    nobody_here: "Здесь пока никого",
    no_chats: "Чатов пока нет",
    earlier_messages: "Более ранние сообщения",
    write_message: "Напишите сообщение…",
    edit: "Изменить",
    save: "Сохранить",
    edited: "изменено",
    seen_by: "Прочитали:",
    is_typing: "печатает…",
    new_group: "Новый групповой чат",
    group_title: "Название группы",
    no_friends_to_add: "Сначала добавьте друзей, чтобы их пригласить",
    create: "Создать",
    group_settings: "Настройки группы",
    rename: "Переименовать",
    add_member: "Добавить участника",
    leave_group: "Покинуть группу",
    message_button: "Написать",
    choose_photo: "Выбрать фото",
    upload: "Загрузить",
    unread: "Непрочитанные",
    reconnecting: "Переподключение…",
};

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_cookie_wins_then_the_browser_then_english() {
        let req =
            TestRequest::default().insert_header(("Accept-Language", "de-DE, ru;q=0.8, en;q=0.5")).to_http_request();
        assert_eq!(Lang::of(&req), Lang::Ru);
        let req = TestRequest::default()
            .insert_header(("Accept-Language", "ru"))
            .cookie(actix_web::cookie::Cookie::new(LANG_COOKIE, "en"))
            .to_http_request();
        assert_eq!(Lang::of(&req), Lang::En);
        assert_eq!(Lang::of(&TestRequest::default().to_http_request()), Lang::En);
    }
}

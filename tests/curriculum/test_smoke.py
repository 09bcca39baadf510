from django.urls import reverse


def test_each_person_lands_on_their_own_home(client, dana, irene, alice, offering, assignment):
    for person, expected in ((dana, "Programs you run"), (irene, "Courses you teach"), (alice, "Coming up")):
        client.force_login(person)
        response = client.get(reverse("home"))
        assert response.status_code == 200
        assert expected in response.content.decode()
